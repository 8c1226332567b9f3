"""Which post-processing tensors get QUANTIZE/DEQUANTIZE pairs in the int8 whole pipeline,
and are their names in the deny-list? (a tiny random model, the exporter's own int8 path)

    python results/int8_islands/qdq_probe.py
    DENY_OPS=SPLIT,TOPK_V2,UNPACK,STRIDED_SLICE,SELECT_V2,L2_NORMALIZATION,SUM,GATHER \
        python results/int8_islands/qdq_probe.py
"""

import os
import tempfile

import numpy as np
import tensorflow as tf
import tf_keras as keras
from ai_edge_litert.interpreter import Interpreter

import portrait_garden as pg
from portrait_garden.export import exporter
from portrait_garden.models import InstanceSegmenter, ServingConfig


def main():
    saved = tempfile.mkdtemp()
    keras.utils.set_random_seed(0)
    model = pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=0.35,
                                 decoder_filters=8, detector=True)
    exporter._save(InstanceSegmenter(model, ServingConfig(grid=(8, 8))), saved)
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (120, 150, 3), dtype=np.uint8) for _ in range(4)]
    converter = exporter._converter(saved, "int8", photos)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=converter.representative_dataset)
    calibrated = Interpreter(model_content=debugger.calibrated_model)
    names = {t["index"]: t["name"] for t in calibrated.get_tensor_details()}
    post = [n for n in names.values() if not n.startswith("serving_network/")]
    deny_ops = [o for o in os.environ.get("DENY_OPS", "").split(",") if o]
    debugger.options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_nodes=post, denylisted_ops=deny_ops or None)
    final = Interpreter(model_content=debugger.get_nondebug_quantized_model())
    tensors = {t["index"]: t for t in final.get_tensor_details()}
    producer = {names[o]: op["op_name"] for op in calibrated._get_ops_details()
                for o in op["outputs"]}
    for op in final._get_ops_details():
        tensor = tensors[op["inputs"][0]]
        if (op["op_name"] == "QUANTIZE" and tensor["dtype"] == np.float32
                and not tensor["name"].startswith("serving_network")):
            print("QDQ on", tensor["name"][:50], "| in deny-list:", tensor["name"] in post,
                  "| produced by (calibrated):", producer.get(tensor["name"]))
    float_network = [op["op_name"] for op in final._get_ops_details()
                     if any(tensors[o]["name"].startswith("serving_network")
                            and tensors[o]["dtype"] == np.float32 for o in op["outputs"])]
    print("network ops with float outputs:", float_network)


if __name__ == "__main__":
    main()
