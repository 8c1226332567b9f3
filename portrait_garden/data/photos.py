"""Photos as a viewer shows them: EXIF orientation applied, any pixel format to 8-bit RGB.

Every path that reads a photo file (the dataset readers, `segment`, `data inspect`,
evaluation) decodes through `to_rgb8`, so masks line up with what a photo viewer shows.
"""

import contextlib
import threading

import numpy as np
from PIL import Image

EXIF_ORIENTATION = 0x0112

DEFAULT_MAX_PIXELS = 89_478_485
"""Largest photo decoded without `max_pixels` (PIL's decompression-bomb limit, about
89.5 MP, 0.27 GB as RGB). Above it a tiny file could claim gigabytes of memory."""

_PIL_LIMIT_LOCK = threading.Lock()


class PhotoTooLargeError(ValueError):
    """A photo above the pixel limit; the message gives its size and the flag to raise it."""


def check_pixel_count(size, max_pixels=None, source="image"):
    """Raises `PhotoTooLargeError` if `size = (width, height)` exceeds `max_pixels`
    (default `DEFAULT_MAX_PIXELS`)."""
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    w, h = size
    if w * h > limit:
        raise PhotoTooLargeError(
            f"{source}: image is {w * h / 1e6:.1f} MP ({w}x{h}), above the "
            f"{limit / 1e6:.1f} MP limit that guards against decompression bombs; if the "
            f"file is trusted, pass --max-pixels {w * h} (decoding needs about "
            f"{w * h * 3 / 1e9:.1f} GB of memory), or downscale it.")


@contextlib.contextmanager
def pixel_limit():
    """Hands the decompression-bomb guard from PIL to `check_pixel_count`, which runs
    on the header right after `Image.open` (nothing is decoded before it) and says
    how to allow a larger photo; PIL's own limit is restored on exit."""
    with _PIL_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


_TRANSPOSES = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
"""EXIF orientation -> the transpose that makes the stored pixels upright."""


def exif_orientation(img):
    """The EXIF orientation tag of a PIL image (1 = stored upright; 1..8)."""
    try:
        value = int(img.getexif().get(EXIF_ORIENTATION, 1))
    except (TypeError, ValueError, OSError):
        return 1
    return value if value in range(1, 9) else 1


def apply_orientation(img, orientation):
    """Transposes a PIL image by an EXIF orientation value (also for masks that were
    drawn on the stored frame of a rotated photo)."""
    for method in _TRANSPOSES.get(orientation, ()):
        img = img.transpose(method)
    return img


def to_rgb8(img):
    """A decoded PIL image -> upright 8-bit RGB PIL image.

    - EXIF orientation 2..8 is applied (the result is what a viewer shows);
    - 16-bit and 32-bit integer grey (`I;16*`, `I`) are scaled to 8 bits, not clipped;
    - float grey (`F`) in [0, 1] is scaled by 255, otherwise clipped to [0, 255];
    - palette (with or without transparency), CMYK, `LA`, `RGBA`, `1` and `L` become RGB
      (alpha is dropped: the pixels keep their colour).

    Returns:
      `(rgb, orientation)`: the RGB image and the EXIF orientation that was applied.
    """
    orientation = exif_orientation(img)
    img = apply_orientation(img, orientation)
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        grey = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16") or grey.max(initial=0) > 255:
            grey = grey / 257.0                       # 65535 -> 255
        img = Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        grey = np.asarray(img, np.float64)
        if grey.size and np.nanmax(grey) <= 1.0:
            grey = grey * 255.0
        img = Image.fromarray(np.clip(np.nan_to_num(np.round(grey)), 0, 255).astype(np.uint8),
                              "L")
    elif mode == "P":
        img = img.convert("RGBA")                     # honours palette transparency
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img, orientation
