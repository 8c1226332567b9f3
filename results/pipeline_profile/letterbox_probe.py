"""The letterbox alone in TFLite: column GATHERs on axis 1 (before 2026-11-28) against
portrait_garden.ops.resample.letterbox (rows transposed, GATHERs on axis 0).

    python results/pipeline_profile/letterbox_probe.py
"""
import time
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from portrait_garden.ops import resample
from portrait_garden.ops.resample import filter_taps

def letterbox_axis1(image, size, taps=4):
    H, W = size
    h, w = tf.shape(image)[1], tf.shape(image)[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    scale = tf.minimum(H / hf, W / wf)
    ph = tf.maximum(tf.cast(tf.round(H / scale), tf.int32), h)
    pw = tf.maximum(tf.cast(tf.round(W / scale), tf.int32), w)
    top, left = (ph - h) // 2, (pw - w) // 2
    y_index, y_weight = filter_taps(H, ph, top, h, taps)
    x_index, x_weight = filter_taps(W, pw, left, w, taps)
    photo = tf.reshape(image, tf.stack([h, w, 3]))
    rows = 0.0
    for k in range(taps):
        rows += tf.cast(tf.gather(photo, y_index[:, k]), tf.float32) * tf.reshape(y_weight[:, k], [H, 1, 1])
    canvas = 0.0
    for k in range(taps):
        canvas += tf.gather(rows, x_index[:, k], axis=1) * tf.reshape(x_weight[:, k], [1, W, 1])
    return tf.reshape(canvas, [1, H, W, 3])


def build(fn):
    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
    def f(image):
        return fn(image)
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()])
    return conv.convert()

def timeit(data, photo, n=50):
    it = Interpreter(model_content=data, num_threads=1)
    idx = it.get_input_details()[0]["index"]
    it.resize_tensor_input(idx, photo.shape); it.allocate_tensors(); it.set_tensor(idx, photo)
    for _ in range(3): it.invoke()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); it.invoke(); ts.append(time.perf_counter() - t)
    return 1e3 * np.median(ts), it.get_tensor(it.get_output_details()[0]["index"])

old = build(lambda im: letterbox_axis1(im, (256, 256)))
new = build(lambda im: resample.letterbox(im, (256, 256))[0])
rng = np.random.default_rng(0)
for hw in ((256, 256), (480, 640), (720, 960), (1080, 1920)):
    photo = rng.integers(0, 256, (1, *hw, 3), dtype=np.uint8)
    a, x = timeit(old, photo); b, y = timeit(new, photo)
    print(hw, f"axis-1 gathers {a:.2f} ms, transposed {b:.2f} ms, max diff {np.abs(x - y).max():.2e}")
