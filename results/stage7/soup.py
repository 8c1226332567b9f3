"""Uniform weight average ("model soup") of portrait-garden models with one architecture.

    python results/stage7/soup.py OUT.keras A.keras B.keras [C.keras ...]

Every weight (kernels, biases, batch-norm gammas/betas and moving statistics) is the mean
over the inputs; the first model's config and compile state are kept.
"""

import sys

import numpy as np

import portrait_garden as pg


def main(out, *paths):
    if len(paths) < 2:
        sys.exit("usage: soup.py OUT.keras A.keras B.keras [...]")
    models = [pg.load_model(p) for p in paths]
    shapes = [[w.shape for w in m.get_weights()] for m in models]
    if any(s != shapes[0] for s in shapes[1:]):
        sys.exit("the models do not share one architecture (weight shapes differ)")
    soup = models[0]
    soup.set_weights([np.mean(ws, axis=0) for ws in zip(*(m.get_weights() for m in models))])
    soup.save(out)
    print(f"wrote {out}: mean of {len(paths)} models")


if __name__ == "__main__":
    main(*sys.argv[1:])
