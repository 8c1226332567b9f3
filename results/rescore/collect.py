"""Collects the default preset's `.keras` pipeline outputs (COCO-standard floor 0.05, the
preset's serving settings otherwise) on a pfg_sports split, for offline re-scoring.

    python results/rescore/collect.py dev runs/rescore_dev.npz
"""

import dataclasses
import sys

import numpy as np

from portrait_garden.cli import _recipe_serving
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.inference import Predictor

MODEL = "saved_models/portrait_instance_mbv2_100_256/model.keras"


def main(split, out):
    config, _ = _recipe_serving(MODEL)
    serving = {**dataclasses.asdict(config), "score_threshold": 0.05, "max_detections": 16}
    serving.pop("grouping")
    predictor = Predictor(MODEL, serving=serving)
    examples, _ = read_examples(resolve_dataset("pfg_sports", "../shared/data"), split)
    saved = {}
    for i, ex in enumerate(examples):
        o = predictor.predict(ex.image)
        for key in ("instance_labels", "scores", "boxes", "num_instances", "person_probability"):
            saved[f"{i}_{key}"] = np.asarray(o[key])
    np.savez_compressed(out, n=len(examples), **saved)


if __name__ == "__main__":
    main(*sys.argv[1:])
