"""Re-ranks the collected detections (collect.py) by how well each person's mask fills its
box, and reports COCO-standard mask AP for each rule.

    python results/rescore/rescore.py dev runs/rescore_dev.npz
"""

import contextlib
import io
import sys

import numpy as np

from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.evaluate.runner import mask_ap


def instances(saved, i):
    labels = saved[f"{i}_instance_labels"]
    h, w = labels.shape
    prob = saved[f"{i}_person_probability"]
    for k in range(int(saved[f"{i}_num_instances"])):
        mask = labels == k + 1
        if not mask.any():
            continue
        y0, x0, y1, x1 = saved[f"{i}_boxes"][k]
        if max(y1, x1) <= 1.5:                      # normalized boxes
            y0, y1, x0, x1 = y0 * h, y1 * h, x0 * w, x1 * w
        box_area = max((y1 - y0) * (x1 - x0), 1.0)
        yield mask, float(saved[f"{i}_scores"][k]), {
            "fill": min(mask.sum() / box_area, 1.0),
            "prob": float(prob[mask].mean()),
        }


RULES = {
    "score": lambda s, f: s,
    "score * fill^0.25": lambda s, f: s * f["fill"] ** 0.25,
    "score * fill^0.5": lambda s, f: s * f["fill"] ** 0.5,
    "score * fill": lambda s, f: s * f["fill"],
    "score * prob": lambda s, f: s * f["prob"],
    "score * prob^4": lambda s, f: s * f["prob"] ** 4,
}


def main(split, path):
    saved = np.load(path)
    examples, _ = read_examples(resolve_dataset("pfg_sports", "../shared/data"), split)
    assert len(examples) == int(saved["n"])
    found = [(i, m, s, f) for i in range(len(examples)) for m, s, f in instances(saved, i)]
    print(f"pfg_sports/{split}: {len(examples)} photos, {len(found)} detections")
    print("| rule | AP | AP50 | AP75 |\n|---|---|---|---|")
    for name, rule in RULES.items():
        with contextlib.redirect_stdout(io.StringIO()):
            r = mask_ap(examples, [(i, m, rule(s, f)) for i, m, s, f in found])
        print(f"| {name} | {r['mask_ap']:.3f} | {r['mask_ap50']:.3f} | {r['mask_ap75']:.3f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
