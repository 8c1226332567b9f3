"""Per-layer int8 error of an exported pipeline's network (TFLite's quantization debugger).

    python results/int8_islands/layer_errors.py SAVED_MODEL OUT.csv

Runs the full-integer network (the pipeline's float pre/post-processing deny-listed, as
`export` does) on 25 of the calibration photos, all resized to the first one's size (the
debugger cannot resize its input), and writes the debugger's layer statistics with an
`rmse/scale` column: about 0.29 is pure rounding noise of one quantization step.
"""
import csv
import io
import sys

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from portrait_garden.cli import _representative_photos
from portrait_garden.export import exporter

saved_model, out = sys.argv[1:3]
photos = _representative_photos("../shared/data", 100)
names = [t["name"] for t in Interpreter(
    model_content=exporter._converter(saved_model, "float32", None).convert()).get_tensor_details()]
post = [n for n in names if not n.startswith("serving_network/")]
h, w = photos[0].shape[:2]
sample = [np.asarray(Image.fromarray(p).resize((w, h))) for p in photos[::4]]
converter = exporter._converter(saved_model, "int8", photos)
debugger = tf.lite.experimental.QuantizationDebugger(
    converter=converter, debug_dataset=lambda: ([p[None]] for p in sample),
    debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=post))
debugger.run()
buffer = io.StringIO()
debugger.layer_statistics_dump(buffer)
rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
for row in rows:
    scale = float(row["scale"])
    row["rmse/scale"] = f"{float(row['mean_squared_error']) ** 0.5 / scale:.4f}" if scale else ""
rows.sort(key=lambda r: -float(r["rmse/scale"] or 0))
with open(out, "w", newline="") as f:
    writer = csv.DictWriter(f, ["rmse/scale", *[k for k in rows[0] if k != "rmse/scale"]])
    writer.writeheader()
    writer.writerows(rows)
for row in rows[:10]:
    print(row["rmse/scale"], row["op_name"], row["tensor_name"][:100])
