"""Exports the default preset's model.keras to int8, calibrated on group photos only
(50 coco128 photos + 50 coco128-person composites, half rows); see findings.md.

    python results/int8_calibration/probe.py [OUT]      # default exports/int8_group_calib
"""
import sys

import numpy as np

from portrait_garden import data
from portrait_garden.cli import _recipe_serving
from portrait_garden.export import export_model
from portrait_garden.saving import load_portrait_model

MODEL = "saved_models/portrait_instance_mbv2_100_256/model.keras"


def main(out="exports/int8_group_calib"):
    examples, _ = data.read_examples(data.resolve_dataset("coco128", None), None, 512)
    rng = np.random.default_rng(0)
    photos = [examples[i].image for i in rng.choice(len(examples), 50, replace=False)]
    cutouts = data.extract_cutouts(examples)
    composites = data.make_composites(cutouts, examples, 50, seed=0, row_fraction=0.5)
    photos += [np.asarray(ex.image, np.uint8) for ex in composites]
    config, source = _recipe_serving(MODEL)
    print("serving settings:", source, "| calibration photos:", len(photos))
    paths = export_model(load_portrait_model(MODEL), out, config, photos, ("int8",),
                         network=False)
    print(paths)


if __name__ == "__main__":
    main(*sys.argv[1:])
