"""The default preset's centre heatmap on four pfg_sports test photos (letterboxed input |
heatmap in yellow, full at probability 0.5).

    python results/unclaimed/heatmaps.py saved_models/portrait_instance_mbv2_100_256/model.keras
"""
import sys

import numpy as np
import tensorflow as tf
from PIL import Image

import portrait_garden as pg
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.ops.resample import letterbox

IDS = ("1.jpg", "25.jpg", "70.jpg", "73.jpg")
model = pg.load_model(sys.argv[1])
examples, _ = read_examples(resolve_dataset("pfg_sports"), "test")
rows = []
for ex in (e for e in examples if e.id in IDS):
    x = letterbox(tf.cast(tf.constant(ex.image[None]), tf.float32), (256, 256))
    x = x[0] if isinstance(x, (tuple, list)) else x
    heat = tf.sigmoid(model(x, training=False)["center_heatmap"])[0, ..., 0].numpy()
    print(ex.id, f"heatmap max {heat.max():.2f}, persons {len(ex.annotations)}")
    image = np.asarray(x[0]).astype(np.float32)
    yellow = np.kron(heat / 0.5, np.ones((4, 4)))[..., None].clip(0, 1) * [230, 230, 0]
    rows.append(np.concatenate([image, (image * 0.35 + yellow).clip(0, 255)], 1))
Image.fromarray(np.concatenate(rows, 0).astype(np.uint8)).save(
    "results/unclaimed/heatmaps.jpg", quality=80)
