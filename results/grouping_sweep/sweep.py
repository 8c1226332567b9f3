"""Serving-setting sweep of the default preset's grouping on a pfg_sports split.

    python results/grouping_sweep/sweep.py SPLIT OUT_DIR [VARIANT ...]

Each variant copies `saved_models/portrait_instance_mbv2_100_256/model.keras` with its
`config.yaml`, changes `serving:` settings, and runs `portrait-garden evaluate` of the
`.keras` (COCO-standard: score floor 0.05, 16 slots, the preset's priority_score 0.15) with
affinity and with box grouping. Writes OUT_DIR/<variant>_<grouping>_<split>.json.
"""
import os
import shutil
import subprocess
import sys

import yaml

PRESET = "saved_models/portrait_instance_mbv2_100_256"
VARIANTS = {
    "base": {},
    "nms050": {"nms_iou": 0.5},
    "nms070": {"nms_iou": 0.7},
    "scale2": {"group_scale": 2},
    "iters12": {"propagation_iterations": 12},
    "grid8": {"grid": [8, 8]},
    "grid32": {"grid": [32, 32]},
}
GROUPING_FREE = ("iters12", "grid8", "grid32")   # box grouping ignores these settings

split, out_dir, *names = sys.argv[1:]
os.makedirs(out_dir, exist_ok=True)
for name in names or list(VARIANTS):
    folder = os.path.join("runs", "grouping_sweep", name)
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(PRESET, "model.keras"), folder)
    with open(os.path.join(PRESET, "config.yaml")) as f:
        config = yaml.safe_load(f)
    config["serving"].update(VARIANTS[name])
    with open(os.path.join(folder, "config.yaml"), "w") as f:
        yaml.safe_dump(config, f)
    for grouping in ("affinity", "box"):
        if grouping == "box" and name in GROUPING_FREE:
            continue
        out = os.path.join(out_dir, f"{name}_{grouping}_{split}.json")
        command = ["portrait-garden", "evaluate", "--model", os.path.join(folder, "model.keras"),
                   "--dataset", "pfg_sports", "--split", split, "--data-dir", "../shared/data",
                   "--grouping", grouping, "--out", out]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(name, grouping, split, "->", out, flush=True)
