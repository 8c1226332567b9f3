"""`portrait-garden segment`: photos in, per-person masks, overlays and JSON out."""

import json
import os

import numpy as np
from PIL import Image

from portrait_garden.data.photos import to_rgb8
from portrait_garden.data.readers import IMAGE_EXTENSIONS, DataError
from portrait_garden.data.visualize import PALETTE, overlay_instances

EFFECTS = ("none", "blur", "replace")


def list_photos(path):
    """A photo file, or the photos of a folder (sorted)."""
    if os.path.isdir(path):
        photos = sorted(os.path.join(path, f) for f in os.listdir(path)
                        if f.lower().endswith(IMAGE_EXTENSIONS))
        if not photos:
            raise DataError(f"{path}: no photos (.jpg/.jpeg/.png) in this folder.")
        return photos
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No photo or folder at {path}.")
    return [path]


def read_photo(path, with_orientation=False):
    """uint8 RGB `[H, W, 3]` as a photo viewer shows it (EXIF orientation applied;
    16-bit, palette, CMYK and alpha formats converted to 8-bit RGB).

    Args:
      path: str, the photo file.
      with_orientation: also return the EXIF orientation that was applied (1..8).

    Raises:
      DataError: naming the file if it cannot be decoded.
    """
    try:
        with Image.open(path) as img:
            img.load()
            rgb, orientation = to_rgb8(img)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: cannot read this image ({e}).") from None
    photo = np.asarray(rgb)
    return (photo, orientation) if with_orientation else photo


def apply_effect(photo, labels, effect, background=None):
    """Portrait effects: blur or replace everything that is not a person."""
    person = (labels > 0)[..., None]
    if effect == "blur":
        from PIL import ImageFilter

        blurred = np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(12)))
        return np.where(person, photo, blurred).astype(np.uint8)
    if effect == "replace":
        if background is None:
            raise ValueError("--effect replace needs --background IMAGE.")
        bg = np.asarray(Image.fromarray(background).resize(photo.shape[1::-1], Image.BILINEAR))
        return np.where(person, photo, bg).astype(np.uint8)
    return photo


def segment_photos(predictor, paths, out_dir, effect="none", background=None, progress=True):
    """Segments photos and writes, per photo `<stem>`: `<stem>_overlay.png` (one colour
    per person, boxes), `<stem>_person<k>.png` masks, `<stem>.json` (boxes in pixels,
    scores, COCO RLE masks) and, with an effect, `<stem>_<effect>.png`.

    Returns:
      list of per-photo summary dicts.
    """
    from pycocotools import mask as mask_utils

    os.makedirs(out_dir, exist_ok=True)
    summaries = []
    iterator = paths
    if progress and len(paths) > 1:
        from tqdm import tqdm

        iterator = tqdm(paths, desc="segment", unit="photo")
    for path in iterator:
        photo, orientation = read_photo(path, with_orientation=True)
        out = predictor.predict(photo)
        labels = out["instance_labels"]
        n = int(out["num_instances"])
        stem = os.path.splitext(os.path.basename(path))[0]
        h, w = labels.shape
        overlay = overlay_instances(photo, labels, alpha=0.55)
        people = []
        for k in range(n):
            m = labels == k + 1
            Image.fromarray((m * 255).astype(np.uint8)).save(
                os.path.join(out_dir, f"{stem}_person{k + 1}.png"))
            rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
            y0, x0, y1, x1 = (out["boxes"][k] * [h, w, h, w]).tolist()
            people.append({"id": k + 1, "score": float(out["scores"][k]),
                           "box_yxyx": [round(v, 1) for v in (y0, x0, y1, x1)],
                           "pixels": int(m.sum()),
                           "mask_rle": {"size": rle["size"],
                                        "counts": rle["counts"].decode("ascii")}})
            colour = PALETTE[k % len(PALETTE)].astype(np.uint8)
            yi0, xi0 = int(max(y0, 0)), int(max(x0, 0))
            yi1, xi1 = int(min(y1, h - 1)), int(min(x1, w - 1))
            overlay[yi0:yi1 + 1, [xi0, xi1]] = colour
            overlay[[yi0, yi1], xi0:xi1 + 1] = colour
        Image.fromarray(overlay).save(os.path.join(out_dir, f"{stem}_overlay.png"))
        if effect != "none":
            Image.fromarray(apply_effect(photo, labels, effect, background)).save(
                os.path.join(out_dir, f"{stem}_{effect}.png"))
        summary = {"photo": path, "width": w, "height": h,
                   "frame": "upright: EXIF orientation applied, as a photo viewer shows it",
                   "exif_orientation": orientation, "num_persons": len(people),
                   "persons": people,
                   "result": "no person found" if not people else f"{len(people)} person(s)"}
        with open(os.path.join(out_dir, f"{stem}.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
        summaries.append(summary)
    return summaries
