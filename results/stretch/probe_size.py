"""The same trained weights at other input sizes (letterboxed), PFCN val and vikram val.

python results/stretch/probe_size.py saved_models/portrait_instance_mbv2_100_256 320
"""
import dataclasses
import os
import sys

import numpy as np
import tensorflow as tf

from portrait_garden.configs import load_config
from portrait_garden.data.pipeline import load_store, resolve_dataset
from portrait_garden.data.readers import IGNORE
from portrait_garden.models.builder import build_segmenter
from portrait_garden.ops.resample import letterbox
from portrait_garden.saving import load_portrait_model

folder, side = sys.argv[1], int(sys.argv[2])
trained = load_portrait_model(os.path.join(folder, "model.keras"))
config = load_config(os.path.join(folder, "config.yaml"))
model = build_segmenter(dataclasses.replace(config.model, image_size=(side, side)))
model.set_weights(trained.get_weights())
size = (side, side)


@tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
def boxed(image):
    canvas, (oy, ox, nh, nw) = letterbox(image, size)
    prob = tf.sigmoid(model(canvas, training=False)["mask"])
    return tf.image.resize(prob[:, oy:oy + nh, ox:ox + nw], tf.shape(image)[1:3])[0, ..., 0]


for name, split in [("pfcn", "val"), ("vikram", "val")]:
    store, _ = load_store(resolve_dataset(name), split, max_side=2048)
    inter = union = 0
    for i in range(len(store.sizes)):
        h, w = store.sizes[i]
        image, labels = store.images[i, :h, :w], store.labels[i, :h, :w]
        valid = labels != IGNORE
        truth = (labels > 0) & valid
        pred = (boxed(image[None]).numpy() > 0.5) & valid
        inter += (pred & truth).sum()
        union += (pred | truth).sum()
    print(f"{name}/{split} letterbox {side} person IoU {inter / union:.4f}")
