"""Uniform weight average ("model soup", Wortsman et al. 2022) of portrait-garden models.

    python tools/model_soup.py --out OUT.keras A.keras B.keras [C.keras ...]

For models fine-tuned from the same weights (e.g. one recipe run with two data seeds),
every weight, batch-norm moving statistics included, becomes the mean over the inputs. The
first model's architecture is kept; models whose weight shapes differ are refused. The
shipped default preset is the soup of stage 7's two seeds (`results/stage7/findings.md`).
"""

import argparse
import os
import sys

import numpy as np


def average(models):
    """Sets the first model's weights to the mean of all models' weights; returns it."""
    weights = [m.get_weights() for m in models]
    for model, w in zip(models[1:], weights[1:]):
        if [a.shape for a in w] != [a.shape for a in weights[0]]:
            raise ValueError(f"{model.name} does not share the first model's architecture "
                             "(its weight shapes differ); average only models trained from "
                             "the same recipe and starting weights.")
    soup = models[0]
    soup.set_weights([np.mean(ws, axis=0).astype(ws[0].dtype) for ws in zip(*weights)])
    return soup


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the averaged model, .keras")
    parser.add_argument("models", nargs="+", help="two or more .keras files")
    args = parser.parse_args(argv)
    if len(args.models) < 2:
        parser.error("give two or more models to average.")
    missing = [p for p in args.models if not os.path.isfile(p)]
    if missing:
        parser.error(f"not found: {missing}")
    import portrait_garden as pg

    soup = average([pg.load_model(p) for p in args.models])
    try:
        soup.save(f"{args.out}.tmp.keras")
        os.replace(f"{args.out}.tmp.keras", args.out)
    finally:
        if os.path.exists(f"{args.out}.tmp.keras"):
            os.remove(f"{args.out}.tmp.keras")
    print(f"wrote {args.out}: the mean of {len(args.models)} models' weights")


if __name__ == "__main__":
    sys.exit(main())
