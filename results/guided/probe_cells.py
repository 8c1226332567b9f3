"""Round 3 (findings.md): the shipped op, `guided_coefficients` on 4x4 cells plus
`undo_letterbox(..., refine=...)`, at several radii (in cells), on the same selection
photos; then PFCN val and vikram val for the chosen radius only.

    python results/guided/probe_cells.py [MODEL_KERAS] [RADII] [OUT_JSON]
    PROBE_SCALE=2 python results/guided/probe_cells.py saved_models/portrait_instance_mbv2_100_256/model.keras 1,2,3 probe_cells2.json
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf

import portrait_garden as pg
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.data.readers import IGNORE
from portrait_garden.ops.resample import guided_coefficients, letterbox, undo_letterbox

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data")
EPS = 1e-3
SCALE = int(os.environ.get("PROBE_SCALE", "4"))   # round 4: PROBE_SCALE=2


def main(model_path, radii, out):
    model = pg.load_model(model_path)
    size = tuple(model.input.shape[1:3])

    @tf.function(reduce_retracing=True)
    def run(image):
        canvas, window = letterbox(image, size)
        prob = tf.reshape(tf.sigmoid(model(canvas, training=False)["mask"]), size)
        return canvas, tf.stack(window), prob

    @tf.function(reduce_retracing=True)
    def upsample(image, canvas, window, prob, radius):
        window = tuple(window[i] for i in range(4))
        refine = None
        if radius:
            refine = (guided_coefficients(prob, canvas, window, radius, EPS, SCALE), image)
        return undo_letterbox(tf.ones(size, tf.int32), tf.zeros([1, 4]), tf.zeros([1]),
                              tf.constant(0), prob, window, tf.shape(image)[1:3],
                              refine=refine)["person_probability"]

    def score(examples, settings):
        counts = {r: np.zeros(2, np.int64) for r in settings}
        for ex in examples:
            image = tf.constant(ex.image[None])
            canvas, window, prob = run(image)
            valid, truth = ex.labels != IGNORE, (ex.labels > 0) & (ex.labels != IGNORE)
            for r in settings:
                pred = (upsample(image, canvas, window, prob, r).numpy() > 0.5) & valid
                counts[r] += [np.sum(pred & truth), np.sum(pred | truth)]
        return {r: c[0] / c[1] for r, c in counts.items()}

    settings = [0, *radii]
    selection = {}
    for name, limit in (("pfcn", 150), ("vikram", None)):
        examples, _ = read_examples(resolve_dataset(name, DATA), "train")
        selection[name] = score(examples[:limit], settings)
    for r in settings:
        print("selection radius", r, {k: round(v[r], 4) for k, v in selection.items()},
              flush=True)
    chosen = max(radii, key=lambda r: np.mean([v[r] for v in selection.values()]))
    print("chosen radius", chosen)
    val = {}
    for name in ("pfcn", "vikram"):
        examples, _ = read_examples(resolve_dataset(name, DATA), "val")
        val[name] = score(examples, [0, chosen])
        print("val", name, {k: round(v, 4) for k, v in val[name].items()}, flush=True)
    with open(os.path.join(HERE, out), "w") as f:
        json.dump({"scale": SCALE, "eps": EPS, "chosen": chosen,
                   "selection": {k: {str(r): v for r, v in d.items()} for k, d in
                                 selection.items()},
                   "val": {k: {str(r): v for r, v in d.items()} for k, d in val.items()}},
                  f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "saved_models/portrait_instance_mbv2_100_256/model.keras",
         tuple(int(r) for r in (sys.argv[2] if len(sys.argv) > 2 else "1,2,3").split(",")),
         sys.argv[3] if len(sys.argv) > 3 else "probe_cells.json")
