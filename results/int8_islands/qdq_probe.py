"""Which post-processing tensors get QUANTIZE/DEQUANTIZE pairs in the int8 whole pipeline,
and are their names in the deny-list? (tiny random model, the exporter's own int8 path)

    python results/int8_islands/qdq_probe.py
    DENY_OPS=SPLIT,TOPK_V2,UNPACK,STRIDED_SLICE,SELECT_V2,L2_NORMALIZATION,SUM,GATHER python results/int8_islands/qdq_probe.py
"""
import numpy as np, tensorflow as tf, tf_keras as keras
import portrait_garden as pg
from portrait_garden.export import exporter
from portrait_garden.models import ServingConfig, InstanceSegmenter
from ai_edge_litert.interpreter import Interpreter
import tempfile
SAVED = tempfile.mkdtemp()
keras.utils.set_random_seed(0)
model = pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=0.35, decoder_filters=8, detector=True)
seg = InstanceSegmenter(model, ServingConfig(grid=(8, 8)))
exporter._save(seg, SAVED)
rng = np.random.default_rng(0)
photos = [rng.integers(0, 256, (120, 150, 3), dtype=np.uint8) for _ in range(4)]
converter = exporter._converter(SAVED, "int8", photos)
debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=converter.representative_dataset)
names = [t["name"] for t in Interpreter(model_content=debugger.calibrated_model).get_tensor_details()]
post = [n for n in names if not n.startswith("serving_network/")]
import os
OPS = [o for o in os.environ.get("DENY_OPS", "").split(",") if o]
debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=post, denylisted_ops=OPS or None)
data = debugger.get_nondebug_quantized_model()
it = Interpreter(model_content=data)
det = {t["index"]: t for t in it.get_tensor_details()}
cal = Interpreter(model_content=debugger.calibrated_model)
caldet = {t["index"]: t for t in cal.get_tensor_details()}
ops_by_out = {}
for op in cal._get_ops_details():
    for o in op["outputs"]:
        ops_by_out[caldet[o]["name"]] = op["op_name"]
for op in it._get_ops_details():
    if op["op_name"] == "QUANTIZE":
        i = det[op["inputs"][0]]
        if i["dtype"] == np.float32 and not i["name"].startswith("serving_network"):
            print("QDQ on", i["name"][:50], "| in deny-list:", i["name"] in post, "| produced by (calibrated):", ops_by_out.get(i["name"]))
net_float = [op["op_name"] for op in it._get_ops_details()
             if any(det[o]["name"].startswith("serving_network") and det[o]["dtype"] == np.float32 for o in op["outputs"])]
print("network ops with float outputs:", net_float)
