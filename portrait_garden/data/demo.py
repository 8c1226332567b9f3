"""A small redistributable portrait folder for tutorials: scikit-image's public-domain
photos of people, varied by crops, flips and colour, with person masks predicted by
a portrait-garden model (pseudo-labels: they teach the folder layout and the
workflow, not accuracy)."""

import os

import numpy as np
from PIL import Image, ImageEnhance

DEMO_PHOTOS = ("astronaut", "camera")
"""scikit-image sample photos with a person in them (public domain)."""


def _base_photos():
    from skimage import data as skdata

    photos = []
    for name in DEMO_PHOTOS:
        photo = getattr(skdata, name)()
        if photo.ndim == 2:
            photo = np.stack([photo] * 3, -1)
        photos.append(np.asarray(photo[..., :3], np.uint8))
    return photos


def write_demo_folder(root, count=12, predictor=None, val_fraction=0.25, seed=0,
                      size=(320, 256)):
    """Writes a portrait folder (`images/`, `masks/`, `train.txt`, `val.txt`).

    Args:
      root: str, the folder to create (must not exist or be empty).
      count: int, number of photos. Defaults to 12.
      predictor: object with `predict(photo) -> {"person_probability": [H, W]}`
        (e.g. `portrait_garden.inference.Predictor` of the shipped
        model) that labels the photos. Required.
      val_fraction: share of the ids listed in `val.txt`. Defaults to 0.25.
      seed: int. Defaults to 0.
      size: `(height, width)` of the written photos. Defaults to (320, 256).

    Returns:
      list of ids.

    Raises:
      ValueError: no predictor, or `root` already holds files.
    """
    if predictor is None:
        raise ValueError("write_demo_folder needs a predictor to label the photos, e.g. "
                         "Predictor('saved_models/portrait_instance_mbv2_256').")
    if os.path.isdir(root) and os.listdir(root):
        raise ValueError(f"{root} is not empty; choose a new folder for the demo set.")
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "masks"), exist_ok=True)
    photos = _base_photos()
    ids = []
    for i in range(count):
        base = photos[i % len(photos)]
        h, w = base.shape[:2]
        scale = rng.uniform(0.6, 1.0)
        ch, cw = int(h * scale), int(w * scale * rng.uniform(0.7, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        img = Image.fromarray(base[y:y + ch, x:x + cw]).resize(size[::-1], Image.BILINEAR)
        if rng.random() < 0.5:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.4))
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))
        photo = np.asarray(img)
        mask = (predictor.predict(photo)["person_probability"] > 0.5).astype(np.uint8) * 255
        stem = f"demo_{i:03d}"
        Image.fromarray(photo).save(os.path.join(root, "images", f"{stem}.jpg"), quality=92)
        Image.fromarray(mask).save(os.path.join(root, "masks", f"{stem}.png"))
        ids.append(stem)
    n_val = max(1, int(round(count * val_fraction)))
    with open(os.path.join(root, "train.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(ids[:-n_val]) + "\n")
    with open(os.path.join(root, "val.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(ids[-n_val:]) + "\n")
    return ids
