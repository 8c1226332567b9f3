"""Shared test harness: tiny models, synthetic data, round-trip and parity checks."""

import os

import numpy as np
import pytest
import tf_keras as keras

import portrait_garden as pg

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES_DIR = os.path.join(REPO_ROOT, "recipes")
SHARED_DATA = os.path.join(REPO_ROOT, "..", "shared", "data")

TINY = dict(width_multiplier=0.35, decoder_filters=16)
"""Narrow widths that keep the suite fast."""


def tiny_segmenter(image_size=(128, 128), **overrides):
    return pg.PortraitSegmenter(image_size=image_size, **{**TINY, **overrides})


def randomize_batchnorm(model, seed=0):
    """Gives every BN layer non-trivial statistics so parity checks are meaningful."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                rng.normal(0, 0.1, beta.shape).astype("float32"),
                rng.normal(0, 0.1, mean.shape).astype("float32"),
                rng.uniform(0.5, 1.5, var.shape).astype("float32"),
            ])
    return model


def synthetic_batch(batch=2, size=(128, 128), seed=0):
    """Images with a bright ellipse ("person") on textured background, and its mask."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    images = rng.uniform(0, 90, (batch, h, w, 3)).astype("float32")
    masks = np.zeros((batch, h, w, 1), "float32")
    for b in range(batch):
        cy, cx = rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w
        ry, rx = rng.uniform(0.2, 0.3) * h, rng.uniform(0.15, 0.25) * w
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        masks[b, inside, 0] = 1.0
        images[b][inside] = rng.uniform(150, 255, (int(inside.sum()), 3))
    return images, masks


def compile_for_segmentation(model, learning_rate=1e-3):
    losses, weights = pg.losses.build_losses(model.output.keys())
    model.compile(keras.optimizers.Adam(learning_rate), loss=losses, loss_weights=weights)
    return model


def dominant_fraction(png_path, channel, margin=40):
    """Fraction of a PNG's pixels whose `channel` (0 R, 1 G, 2 B) exceeds both others by
    more than `margin`: what a plot test checks was drawn (a grey photo tinted by the first
    person's red, a blue bar), rather than the file's byte size."""
    from PIL import Image

    rgb = np.asarray(Image.open(png_path).convert("RGB"), np.int32)
    others = np.delete(rgb, channel, axis=-1).max(axis=-1)
    return float(np.mean(rgb[..., channel] - others > margin))


def max_abs_diff(a, b):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        return max(max_abs_diff(a[k], b[k]) for k in a)
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.fixture(scope="session")
def tiny_model():
    keras.utils.set_random_seed(0)
    return randomize_batchnorm(tiny_segmenter())


@pytest.fixture(scope="session")
def tiny_images():
    return synthetic_batch()[0]


class FakePredictor:
    """Stands in for `Predictor` in output tests: `people` persons side by side in the
    lower 3/4 of the photo, each with its box and score 0.9."""

    expected = {"instance_labels"}

    def __init__(self, people):
        self.people = people

    def predict(self, photo):
        h, w = photo.shape[:2]
        labels = np.zeros((h, w), np.int32)
        boxes = np.zeros((8, 4), np.float32)
        for k in range(self.people):
            labels[h // 4:, k * w // self.people:(k + 1) * w // self.people] = k + 1
            boxes[k] = [0.25, k / self.people, 1.0, (k + 1) / self.people]
        return {"instance_labels": labels, "num_instances": self.people, "boxes": boxes,
                "scores": np.full(8, 0.9, np.float32), "person_probability": labels > 0}
