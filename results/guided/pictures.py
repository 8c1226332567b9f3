"""Side by side, bilinear vs guided person mask, on the val photos where the guided
filter changes IoU most (both ways): `python results/guided/pictures.py` writes
`results/guided/pictures.jpg` (red: person pixels the mask misses, blue: extra pixels)."""

import os

import numpy as np
import tensorflow as tf
from PIL import Image

import portrait_garden as pg
from portrait_garden.data import read_examples, resolve_dataset
from portrait_garden.data.readers import IGNORE
from portrait_garden.models import InstanceSegmenter
from portrait_garden.configs import load_config

HERE = os.path.dirname(os.path.abspath(__file__))
PRESET = "saved_models/portrait_instance_mbv2_100_256"


def overlay(image, pred, truth, valid):
    out = image.astype(np.float32) * 0.6
    out[pred & truth & valid] += [0, 60, 0]
    out[~pred & truth & valid] = [255, 0, 0]
    out[pred & ~truth & valid] = [0, 80, 255]
    return np.clip(out, 0, 255).astype(np.uint8)


def main():
    model = pg.load_model(f"{PRESET}/model.keras")
    serving = load_config(f"{PRESET}/config.yaml").serving
    import dataclasses
    plain = InstanceSegmenter(model, dataclasses.replace(serving, refine_radius=0))
    guided = InstanceSegmenter(model, serving)
    rows = []
    for name in ("pfcn", "vikram"):
        examples, _ = read_examples(resolve_dataset(name, os.path.join(HERE, "../../../shared/data")), "val")
        scored = []
        for ex in examples:
            valid, truth = ex.labels != IGNORE, ex.labels > 0
            preds = [m.segment(ex.image)["person_probability"] > 0.5 for m in (plain, guided)]
            ious = [np.sum(p & truth & valid) / np.sum((p | truth) & valid) for p in preds]
            scored.append((ious[1] - ious[0], ex, preds, ious))
        scored.sort(key=lambda t: t[0])
        for gain, ex, preds, ious in (scored[-2], scored[-1], scored[0]):
            valid, truth = ex.labels != IGNORE, ex.labels > 0
            tiles = [overlay(ex.image, p, truth, valid) for p in preds]
            pair = np.concatenate(tiles, axis=1)
            h = 360
            w = int(pair.shape[1] * h / pair.shape[0])
            rows.append((np.asarray(Image.fromarray(pair).resize((w, h))),
                         f"{name} {ex.id}: bilinear {ious[0]:.4f} | guided {ious[1]:.4f}"))
            print(rows[-1][1])
    width = max(r.shape[1] for r, _ in rows)
    canvas = np.full((sum(r.shape[0] for r, _ in rows), width, 3), 255, np.uint8)
    y = 0
    for r, _ in rows:
        canvas[y:y + r.shape[0], :r.shape[1]] = r
        y += r.shape[0]
    Image.fromarray(canvas).save(os.path.join(HERE, "pictures.jpg"), quality=85)


if __name__ == "__main__":
    main()
