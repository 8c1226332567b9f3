"""Boundary band of a binary mask, the target of the boundary head."""

import tensorflow as tf


def boundary_band(mask, width=3):
    """Pixels within `width` pixels of the person outline.

    The band is `dilate(mask) - erode(mask)` with a square structuring element
    of side `2 * width + 1`, computed with max-pooling (TFLite builtins only).

    Args:
      mask: float tensor `[B, H, W, 1]`, person = 1, background = 0. Values
        outside [0, 1] (the ignore label -1) count as background.
      width: int >= 1, half-width of the band in pixels. Defaults to 3.

    Returns:
      float32 tensor `[B, H, W, 1]` in {0, 1}.
    """
    if width < 1:
        raise ValueError(f"boundary width must be >= 1 pixel, got {width}.")
    m = tf.clip_by_value(tf.cast(mask, tf.float32), 0.0, 1.0)
    k = 2 * int(width) + 1
    dilated = tf.nn.max_pool2d(m, k, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-m, k, 1, "SAME")
    return dilated - eroded
