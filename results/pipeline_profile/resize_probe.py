import time
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from portrait_garden.ops.resample import _cell_index

def rw_axis1(x, y0, y1, fy, x0, x1, fx):
    left, right = tf.gather(x, x0, axis=1), tf.gather(x, x1, axis=1)
    cols = left + (right - left) * tf.expand_dims(fx, 0)
    top, bottom = tf.gather(cols, y0), tf.gather(cols, y1)
    return top + (bottom - top) * tf.expand_dims(fy, 1)

def rw_t(x, y0, y1, fy, x0, x1, fx):
    xt = tf.transpose(x)
    left, right = tf.gather(xt, x0), tf.gather(xt, x1)
    cols = tf.transpose(left + (right - left) * tf.expand_dims(fx, 1))
    top, bottom = tf.gather(cols, y0), tf.gather(cols, y1)
    return top + (bottom - top) * tf.expand_dims(fy, 1)

def rw_rows_first(x, y0, y1, fy, x0, x1, fx):
    top, bottom = tf.gather(x, y0), tf.gather(x, y1)
    rows = top + (bottom - top) * tf.expand_dims(fy, 1)          # [h, Wc]
    rt = tf.transpose(rows)                                       # [Wc, h]
    left, right = tf.gather(rt, x0), tf.gather(rt, x1)            # [w, h]
    return tf.transpose(left + (right - left) * tf.expand_dims(fx, 1))

def build(fn, n=128):
    @tf.function(input_signature=[tf.TensorSpec([n, n], tf.float32), tf.TensorSpec([2], tf.int32)])
    def f(x, size):
        y0, y1, fy = _cell_index(size[0], n * 2, 0, 2, n)
        x0, x1, fx = _cell_index(size[1], n * 2, 0, 2, n)
        return fn(x, y0, y1, fy, x0, x1, fx)
    return tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()]).convert()

def timeit(data, x, size, n=30):
    it = Interpreter(model_content=data, num_threads=1)
    d = it.get_input_details()
    it.allocate_tensors()
    for det in d:
        it.set_tensor(det["index"], x if det["shape"].size == 2 and det["dtype"] == np.float32 else np.array(size, np.int32))
    it.invoke()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); it.invoke(); ts.append(time.perf_counter() - t)
    return 1e3 * np.median(ts), it.get_tensor(it.get_output_details()[0]["index"])

x = np.random.default_rng(0).random((128, 128), np.float32)
models = {k: build(f) for k, f in (("axis1", rw_axis1), ("transposed", rw_t), ("rows_first", rw_rows_first))}
for size in ((256, 256), (480, 640), (1080, 1920)):
    out = {k: timeit(m, x, size) for k, m in models.items()}
    ref = out["axis1"][1]
    print(size, {k: f"{v[0]:.2f} ms, diff {np.abs(v[1] - ref).max():.1e}" for k, v in out.items()})
