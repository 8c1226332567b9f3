"""Where do the default preset's missed sports players go? For every pfg_sports person that
no instance matches at mask IoU >= 0.5, how much of them the person mask covers, and how
much of that no instance owns (what a person-from-mask fallback could still recover).

    python results/unclaimed/probe.py saved_models/portrait_instance_mbv2_100_256/model.keras dev
    python results/unclaimed/probe.py ... test 0.9    # diagnostic: NMS at IoU 0.9
"""
import dataclasses
import json
import sys

import numpy as np

from portrait_garden.cli import _recipe_serving
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.inference import Predictor



def _box_iou(a, b):
    h = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = h * w
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


model, split = sys.argv[1], sys.argv[2]
nms = float(sys.argv[3]) if len(sys.argv) > 3 else None    # diagnostic: another NMS IoU
config, _ = _recipe_serving(model)
serving = {**dataclasses.asdict(config), "score_threshold": 0.05, "max_detections": 16}
if nms is not None:
    serving["nms_iou"] = nms
serving.pop("grouping")
predictor = Predictor(model, serving=serving)
examples, _ = read_examples(resolve_dataset("pfg_sports"), split)
rows = []
for ex in examples:
    out = predictor.predict(ex.image)
    labels, person = out["instance_labels"], out["person_probability"] > 0.5
    n = int(out["num_instances"])
    for truth, crowd in ex.annotations:
        if crowd or not truth.any():
            continue
        ious = [np.logical_and(truth, labels == k + 1).sum() /
                np.logical_or(truth, labels == k + 1).sum() for k in range(n)]
        best = max(ious, default=0.0)
        area = truth.sum()
        ys, xs = np.nonzero(truth)
        gt_box = np.array([ys.min(), xs.min(), ys.max() + 1, xs.max() + 1], np.float32)
        boxes = np.asarray(out["boxes"], np.float32)
        if boxes.size and boxes.max() <= 1.5:
            boxes = boxes * np.array(truth.shape * 2, np.float32)
        scores = np.asarray(out["scores"])
        cands = [(_box_iou(gt_box, b), b) for b, s in zip(boxes, scores) if s >= 0.05]
        box_iou, box = max(cands, key=lambda c: c[0], default=(0.0, None))
        ratio = [None, None] if box is None else [
            float((box[2] - box[0]) / (gt_box[2] - gt_box[0])),
            float((box[3] - box[1]) / (gt_box[3] - gt_box[1]))]
        rows.append({"id": ex.id, "area_frac": float(area / truth.size), "best_iou": float(best),
                     "masked": float((truth & person).sum() / area),
                     "masked_unowned": float((truth & person & (labels == 0)).sum() / area),
                     "best_box_iou": float(box_iou), "box_hw_ratio": ratio})
missed = [r for r in rows if r["best_iou"] < 0.5]
print(f"{split}: {len(rows)} persons, {len(missed)} missed at IoU 0.5")
for name, test in (("mask covers >= 50% of them", lambda r: r["masked"] >= 0.5),
                   ("... and >= 50% of them is owned by no instance",
                    lambda r: r["masked_unowned"] >= 0.5),
                   ("a box (score >= 0.05) at box IoU >= 0.5 on them", lambda r: r["best_box_iou"] >= 0.5),
                   ("masked >= 50% with such a box (grouping lost them)",
                    lambda r: r["masked"] >= 0.5 and r["best_box_iou"] >= 0.5)):
    print(f"  {name}: {sum(map(test, missed))}")
for r in sorted(missed, key=lambda r: r["area_frac"]):
    print("  ", r["id"], f"area {r['area_frac']:.3f} best IoU {r['best_iou']:.2f} "
          f"masked {r['masked']:.2f} unowned {r['masked_unowned']:.2f} "
          f"best box IoU {r['best_box_iou']:.2f}")
near = [r for r in rows if r["best_box_iou"] >= 0.3]
h = np.log([r["box_hw_ratio"][0] for r in near])
w = np.log([r["box_hw_ratio"][1] for r in near])
print(f"  predicted / true box size over the {len(near)} persons with a box at IoU >= 0.3: "
      f"height x{np.exp(np.median(h)):.2f} (IQR x{np.exp(np.percentile(h, 25)):.2f}-"
      f"{np.exp(np.percentile(h, 75)):.2f}), width x{np.exp(np.median(w)):.2f} "
      f"(IQR x{np.exp(np.percentile(w, 25)):.2f}-{np.exp(np.percentile(w, 75)):.2f})")
json.dump(rows, open(f"results/unclaimed/{split}{'' if nms is None else f'_nms{nms}'}.json",
                    "w"), indent=1)
