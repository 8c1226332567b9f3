"""Letterboxed vs stretched 256x256 input for a trained network, PFCN val and vikram val,
person IoU at photo resolution (sum of intersections / sum of unions over the set).

python results/stretch/probe_stretch.py saved_models/portrait_instance_mbv2_100_256/model.keras
"""
import sys

import numpy as np
import tensorflow as tf

from portrait_garden.data.pipeline import load_store, resolve_dataset
from portrait_garden.data.readers import IGNORE
from portrait_garden.ops.resample import letterbox
from portrait_garden.saving import load_portrait_model

model = load_portrait_model(sys.argv[1])
size = tuple(int(v) for v in model.input.shape[1:3])


@tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
def boxed(image):
    canvas, (oy, ox, nh, nw) = letterbox(image, size)
    prob = tf.sigmoid(model(canvas, training=False)["mask"])
    return tf.image.resize(prob[:, oy:oy + nh, ox:ox + nw], tf.shape(image)[1:3])[0, ..., 0]


@tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
def stretched(image):
    canvas = tf.image.resize(tf.cast(image, tf.float32), size, antialias=True)
    prob = tf.sigmoid(model(canvas, training=False)["mask"])
    return tf.image.resize(prob, tf.shape(image)[1:3])[0, ..., 0]


for name, split in [("pfcn", "val"), ("vikram", "val")]:
    store, _ = load_store(resolve_dataset(name), split, max_side=2048)
    totals = {"letterbox": [0, 0, []], "stretch": [0, 0, []]}
    for i in range(len(store.sizes)):
        h, w = store.sizes[i]
        image, labels = store.images[i, :h, :w], store.labels[i, :h, :w]
        valid = labels != IGNORE
        truth = (labels > 0) & valid
        for mode, fn in (("letterbox", boxed), ("stretch", stretched)):
            pred = (fn(image[None]).numpy() > 0.5) & valid
            inter, union = (pred & truth).sum(), (pred | truth).sum()
            totals[mode][0] += inter
            totals[mode][1] += union
            totals[mode][2].append(inter / max(union, 1))
    for mode, (i, u, per) in totals.items():
        print(f"{name}/{split} {mode:9s} person IoU {i / u:.4f} mean image IoU "
              f"{np.mean(per):.4f} ({len(per)} photos, {sys.argv[1]})")
