"""Probe: a fast guided filter for the person mask at photo resolution (findings.md).

    python results/guided/probe_guided.py [MODEL_KERAS] [RADII] [OUT_JSON]

RADII: comma-separated box radii (default 1,2,4; a second round ran 4,6,8 with
probe_r468.json).

Prints person IoU (summed intersections / summed unions, ignore pixels out) of the
bilinear baseline and of each guided setting on the selection photos, then the chosen
setting on PFCN val and vikram val.
"""

import itertools
import json
import os
import sys

import numpy as np
import tensorflow as tf

import portrait_garden as pg
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.data.readers import IGNORE
from portrait_garden.ops.resample import letterbox

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
RADII, EPSILONS = (1, 2, 4), (1e-4, 1e-3, 1e-2)
if os.environ.get("PROBE_EPS"):
    EPSILONS = tuple(float(e) for e in os.environ["PROBE_EPS"].split(","))


def box(x, r):
    return tf.nn.avg_pool2d(x, 2 * r + 1, 1, "SAME")   # SAME: padding not counted


def guided(prob, guide_small, guide_full, r, eps):
    """prob, guide_small: [1, h, w, 1] (window of the canvas); guide_full [1, H, W, 1]."""
    mean_i, mean_p = box(guide_small, r), box(prob, r)
    cov = box(guide_small * prob, r) - mean_i * mean_p
    var = box(guide_small * guide_small, r) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    size = tf.shape(guide_full)[1:3]
    a_up = tf.image.resize(box(a, r), size)
    b_up = tf.image.resize(box(b, r), size)
    return a_up * guide_full + b_up


def main(model_path, radii=RADII, out="probe.json"):
    model = pg.load_model(model_path)
    size = tuple(model.input.shape[1:3])

    @tf.function(reduce_retracing=True)
    def run(image):
        canvas, (oy, ox, nh, nw) = letterbox(image, size)
        prob = tf.sigmoid(model(canvas, training=False)["mask"])
        window = prob[:, oy:oy + nh, ox:ox + nw]
        grey = tf.reduce_mean(canvas, -1, keepdims=True)[:, oy:oy + nh, ox:ox + nw] / 255.0
        return window, grey

    def outputs(examples, settings):
        counts = {s: np.zeros(2, np.int64) for s in settings}
        for ex in examples:
            image = tf.constant(ex.image[None])
            window, grey = run(image)
            full = tf.reduce_mean(tf.cast(image, tf.float32), -1, keepdims=True) / 255.0
            valid = ex.labels != IGNORE
            truth = (ex.labels > 0) & valid
            for s in settings:
                if s == "bilinear":
                    p = tf.image.resize(window, ex.labels.shape)
                else:
                    p = guided(window, grey, full, *s)
                pred = (p.numpy()[0, ..., 0] > 0.5) & valid
                counts[s] += [np.sum(pred & truth), np.sum(pred | truth)]
        return {s: c[0] / c[1] for s, c in counts.items()}

    settings = ["bilinear", *itertools.product(radii, EPSILONS)]
    selection = {}
    for name, split, limit in (("pfcn", "train", 150), ("vikram", "train", None)):
        examples, _ = read_examples(resolve_dataset(name, DATA), split)
        selection[name] = outputs(examples[:limit], settings)
    for s in settings:
        print("selection", s, {k: round(v[s], 4) for k, v in selection.items()}, flush=True)
    chosen = max(settings[1:], key=lambda s: np.mean([v[s] for v in selection.values()]))
    print("chosen", chosen)
    report = {}
    for name in ("pfcn", "vikram"):
        examples, _ = read_examples(resolve_dataset(name, DATA), "val")
        report[name] = outputs(examples, ["bilinear", chosen])
        print("val", name, {str(k): round(v, 4) for k, v in report[name].items()}, flush=True)
    with open(os.path.join(os.path.dirname(__file__), out), "w") as f:
        json.dump({"selection": {k: {str(s): v for s, v in d.items()} for k, d in
                                 selection.items()}, "chosen": list(chosen),
                   "val": {k: {str(s): v for s, v in d.items()} for k, d in report.items()}},
                  f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "saved_models/portrait_instance_mbv2_100_256/model.keras",
         tuple(int(r) for r in sys.argv[2].split(",")) if len(sys.argv) > 2 else RADII,
         sys.argv[3] if len(sys.argv) > 3 else "probe.json")
