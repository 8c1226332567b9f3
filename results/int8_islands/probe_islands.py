"""int8 pipelines with parts of the network kept float32 (TFLite selective quantization).

    python results/int8_islands/probe_islands.py SAVED_MODEL OUT_DIR VARIANT [VARIANT ...]

Writes OUT_DIR/model_int8_<variant>.tflite: the export's full-integer network, except the
network tensors whose names contain one of the variant's keys, which stay float32 like
the pipeline's pre/post-processing. Score them with `portrait-garden evaluate`.
"""
import os
import sys

import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from portrait_garden.cli import _representative_photos
from portrait_garden.export import exporter

VARIANTS = {
    "heads": ("center_heatmap", "box_size", "detector_heatmap_", "detector_size_"),
    "neck": ("detector_", "center_heatmap", "box_size"),
    "block1": ("serving_network/block1_expand_",),
    "worst3": ("serving_network/block1_expand_", "serving_network/block0_dw_",
               "serving_network/box_size/"),
}

saved_model, out_dir, *variants = sys.argv[1:]
photos = _representative_photos("../shared/data", 100)
names = [t["name"] for t in Interpreter(
    model_content=exporter._converter(saved_model, "float32", None).convert()).get_tensor_details()]
post = [n for n in names if not n.startswith("serving_network/")]
for variant in variants:
    keep = [n for n in names if n.startswith("serving_network/")
            and any(k in n for k in VARIANTS[variant])]
    converter = exporter._converter(saved_model, "int8", photos)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=converter.representative_dataset,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=post + keep))
    path = os.path.join(out_dir, f"model_int8_{variant}.tflite")
    with open(path, "wb") as f:
        f.write(debugger.get_nondebug_quantized_model())
    print(variant, len(keep), "network tensors kept float32 ->", path)
