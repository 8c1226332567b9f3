"""One-off measurement for issue #18 ("one data path"): the trainer's packed store read
from the dataset folders vs the same store filled from the TFDS builders' prepared
datasets (`tfds.builder(...).as_dataset` + decode + fit to max_side, cached in memory).

    python results/data_path/tfds_vs_store.py --data-dir ../shared/data --sets pfcn picsart

Needs tensorflow-datasets and the (since deleted) portrait_garden/data/tfds_builders.py
of git ebe88a2. Prints the one-time costs and the steady-state augmented samples/s of both.
"""

import argparse
import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from portrait_garden.data import build_dataset, load_store, resolve_dataset
from portrait_garden.data.readers import IGNORE, Example, _resize_pair
from portrait_garden.data.store import ExampleStore
from portrait_garden.data.tfds_builders import prepare

MAX_SIDE = 320


def store_from_tfds(builder, split, name):
    examples = []
    for ex in builder.as_dataset(split=split).prefetch(tf.data.AUTOTUNE):
        image = ex["image"].numpy()
        person = ex["person_mask"].numpy()[..., 0]
        labels = np.where(person == IGNORE, IGNORE, 0).astype(np.uint8)
        for k, mask in enumerate(ex["instance_masks"].numpy(), 1):
            labels[mask[..., 0] > 0] = k
        from PIL import Image
        img, lab = _resize_pair(Image.fromarray(image), labels, MAX_SIDE)
        examples.append(Example(ex["id"].numpy().decode(), np.asarray(img), lab, name))
    return ExampleStore.from_examples(examples, MAX_SIDE, name)


def rate(stores, targets, batches=40):
    it = iter(build_dataset(stores, (256, 256), 16, targets=targets))
    for _ in range(10):
        next(it)
    start = time.time()
    for _ in range(batches):
        next(it)
    return batches * 16 / (time.time() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--sets", nargs="+", default=["pfcn", "picsart"])
    args = parser.parse_args()
    tfds_dir = tempfile.mkdtemp(prefix="tfds_probe_")
    folder, tfds_stores = [], []
    t_prepare = t_tfds = t_folder = 0.0
    for name in args.sets:
        path = resolve_dataset(name, args.data_dir)
        t = time.time()
        folder.append(load_store(path, "train" if os.path.exists(
            os.path.join(path, "train.txt")) else None, MAX_SIDE)[0])
        t_folder += time.time() - t
        t = time.time()
        builder = prepare(path, data_dir=tfds_dir)
        t_prepare += time.time() - t
        t = time.time()
        split = "train"
        tfds_stores.append(store_from_tfds(builder, split, name))
        t_tfds += time.time() - t
    n = sum(len(s) for s in folder)
    assert n == sum(len(s) for s in tfds_stores)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(tfds_dir) for f in fs)
    print(f"{n} images of {args.sets}")
    print(f"folder -> packed store:                 {t_folder:7.1f} s")
    print(f"TFDS prepare (once, offline):           {t_prepare:7.1f} s, {size / 1e6:.0f} MB")
    print(f"TFDS as_dataset -> decode -> store:     {t_tfds:7.1f} s")
    for targets in [("mask",), ("mask", "boundary", "boxes", "centernet")]:
        print(f"targets={'+'.join(targets):<34} folder store {rate(folder, targets):6.1f}, "
              f"TFDS store {rate(tfds_stores, targets):6.1f} samples/s")


if __name__ == "__main__":
    main()
