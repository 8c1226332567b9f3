"""PortraitNet-style augmentation as TF ops (one projective warp + photometric changes).

Geometry (scale, rotation, translation, flip and the aspect-preserving
letterbox to the output size) is one projective transform, applied to the
image with bilinear and to the label map with nearest sampling, so image and
labels stay aligned exactly. All randomness is stateless: a seed pair per
example makes the pipeline deterministic.
"""

import dataclasses
import math

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random augmentation (PortraitNet, Zhang et al. 2019, Sec. 3.3).

    Attributes:
      scale: (min, max) factor on top of the letterbox fit; > 1 crops.
      rotation_degrees: max absolute rotation.
      translate: max shift as a fraction of the output size.
      flip: probability of a horizontal flip.
      brightness: max absolute brightness delta, in [0, 1] image units.
      contrast: (min, max) contrast factor.
      saturation: (min, max) saturation factor.
      hue: max absolute hue delta.
      illumination: max slope of a linear light gradient across the image.
      blur_probability: probability of a Gaussian blur (sigma 0.5..1.5).
      noise_probability: probability of Gaussian noise (sigma up to `noise_sigma`).
      noise_sigma: max noise standard deviation, in [0, 255] units.
    """

    scale: tuple = (0.75, 1.35)
    rotation_degrees: float = 25.0
    translate: float = 0.15
    flip: float = 0.5
    brightness: float = 0.15
    contrast: tuple = (0.7, 1.3)
    saturation: tuple = (0.6, 1.4)
    hue: float = 0.04
    illumination: float = 0.4
    blur_probability: float = 0.3
    noise_probability: float = 0.3
    noise_sigma: float = 8.0


AUGMENT_PRESETS = {
    # PortraitNet's ranges: strong, for training from scratch.
    "portraitnet": AugmentConfig(),
    # Mild geometry and colour, close to flip + colour jitter: for fine-tuning
    # ImageNet-pretrained features, which the strong warp slows down (README,
    # "ImageNet-pretrained backbone").
    "light": AugmentConfig(scale=(0.9, 1.15), rotation_degrees=8.0, translate=0.05,
                           flip=0.5, brightness=0.1, contrast=(0.8, 1.2),
                           saturation=(0.8, 1.2), hue=0.02, illumination=0.1,
                           blur_probability=0.1, noise_probability=0.1, noise_sigma=5.0),
    # Letterbox only (validation-style samples).
    "none": AugmentConfig(scale=(1.0, 1.0), rotation_degrees=0.0, translate=0.0, flip=0.0,
                          brightness=0.0, contrast=(1.0, 1.0), saturation=(1.0, 1.0),
                          hue=0.0, illumination=0.0, blur_probability=0.0,
                          noise_probability=0.0),
}
"""Named `AugmentConfig`s a recipe selects with `data.augment_preset`."""


def augment_preset(name):
    """The `AugmentConfig` named `name` in `AUGMENT_PRESETS`.

    Raises:
      ValueError: unknown name; the message lists the presets.
    """
    if name not in AUGMENT_PRESETS:
        raise ValueError(f"unknown augmentation preset {name!r}; use one of "
                         f"{sorted(AUGMENT_PRESETS)}.")
    return AUGMENT_PRESETS[name]


def warp_matrix(in_size, out_size, scale=1.0, angle=0.0, flip=False, shift=(0.0, 0.0)):
    """Projective transform (output pixel -> input pixel) for `ImageProjectiveTransformV3`.

    The input is scaled by `scale * min(out_h / in_h, out_w / in_w)` (letterbox
    fit), rotated by `angle` radians about its centre, optionally mirrored, and
    placed at the output centre plus `shift` pixels.

    Args:
      in_size: `(in_h, in_w)` scalars (float32 tensors or numbers).
      out_size: `(out_h, out_w)` ints.
      scale, angle: float scalars.
      flip: bool scalar, horizontal mirror.
      shift: `(dy, dx)` float scalars, in output pixels.

    Returns:
      float32 `[8]`.
    """
    in_h, in_w = (tf.cast(v, tf.float32) for v in in_size)
    out_h, out_w = float(out_size[0]), float(out_size[1])
    s = tf.cast(scale, tf.float32) * tf.minimum(out_h / in_h, out_w / in_w)
    cos, sin = tf.cos(tf.cast(angle, tf.float32)), tf.sin(tf.cast(angle, tf.float32))
    f = tf.where(tf.cast(flip, tf.bool), -1.0, 1.0)
    # Inverse of  p_out = R(angle) S F (p_in - c_in) + c_out + shift, p = (x, y).
    m00, m01 = f * cos / s, f * sin / s
    m10, m11 = -sin / s, cos / s
    tx = (out_w - 1.0) / 2.0 + tf.cast(shift[1], tf.float32)
    ty = (out_h - 1.0) / 2.0 + tf.cast(shift[0], tf.float32)
    a2 = (in_w - 1.0) / 2.0 - (m00 * tx + m01 * ty)
    b2 = (in_h - 1.0) / 2.0 - (m10 * tx + m11 * ty)
    return tf.stack([m00, m01, a2, m10, m11, b2, 0.0, 0.0])


def apply_warp(image, labels, matrix, out_size):
    """Warps an image (bilinear) and its label map (nearest) with one transform.

    Args:
      image: float32 `[H, W, 3]`.
      labels: uint8 `[H, W]`.
      matrix: float32 `[8]` from `warp_matrix`.
      out_size: `(out_h, out_w)`.

    Returns:
      `(image [out_h, out_w, 3] float32, labels [out_h, out_w] uint8)`; pixels
      from outside the input are 0 (black, background).
    """
    size = tf.constant(out_size, tf.int32)
    transforms = matrix[None]
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transforms, output_shape=size,
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")[0]
    lab = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(labels, tf.float32)[None, :, :, None], transforms=transforms,
        output_shape=size, fill_value=0.0, interpolation="NEAREST", fill_mode="CONSTANT")
    return warped, tf.cast(lab[0, :, :, 0], tf.uint8)


def _uniform(seed, low, high):
    return tf.random.stateless_uniform([], seed, low, high)


def random_geometry(seed, in_size, out_size, config):
    """A random `warp_matrix` drawn from `config` with a stateless seed `[2]`."""
    seeds = tf.random.experimental.stateless_split(seed, 5)
    scale = _uniform(seeds[0], *config.scale)
    angle = _uniform(seeds[1], -1.0, 1.0) * config.rotation_degrees * math.pi / 180.0
    flip = _uniform(seeds[2], 0.0, 1.0) < config.flip
    shift = tf.random.stateless_uniform([2], seeds[3], -1.0, 1.0) * config.translate
    shift = shift * tf.constant(out_size, tf.float32)
    return warp_matrix(in_size, out_size, scale, angle, flip, (shift[0], shift[1]))


def _gaussian_blur(image, sigma):
    x = tf.range(-2.0, 3.0)
    k = tf.exp(-(x ** 2) / (2.0 * sigma ** 2))
    k = k / tf.reduce_sum(k)
    kernel = (k[:, None] * k[None, :])[:, :, None, None] * tf.ones([1, 1, 3, 1])
    return tf.nn.depthwise_conv2d(image[None], kernel, [1, 1, 1, 1], "SAME")[0]


def photometric(image, seed, config):
    """Random colour, illumination, blur and noise on a float32 `[H, W, 3]` in [0, 255]."""
    seeds = tf.random.experimental.stateless_split(seed, 10)
    x = image / 255.0
    x = tf.image.stateless_random_brightness(x, config.brightness, seeds[0])
    # Factors drawn here rather than by tf.image.stateless_random_contrast/saturation,
    # which refuse an empty range such as (1, 1) (the "none" preset).
    x = tf.image.adjust_contrast(x, _uniform(seeds[1], *config.contrast))
    x = tf.image.adjust_saturation(tf.clip_by_value(x, 0.0, 1.0),
                                   _uniform(seeds[2], *config.saturation))
    x = tf.image.stateless_random_hue(x, config.hue, seeds[3])
    h, w = tf.shape(x)[0], tf.shape(x)[1]
    gy = tf.linspace(-0.5, 0.5, h)[:, None, None]
    gx = tf.linspace(-0.5, 0.5, w)[None, :, None]
    slope = tf.random.stateless_uniform([2], seeds[4], -1.0, 1.0) * config.illumination
    x = x * (1.0 + slope[0] * gy + slope[1] * gx)
    x = tf.clip_by_value(x, 0.0, 1.0) * 255.0
    blur = _uniform(seeds[5], 0.0, 1.0) < config.blur_probability
    x = tf.cond(blur, lambda: _gaussian_blur(x, _uniform(seeds[6], 0.5, 1.5)), lambda: x)
    noisy = _uniform(seeds[7], 0.0, 1.0) < config.noise_probability
    sigma = _uniform(seeds[8], 0.0, config.noise_sigma)
    x = tf.cond(noisy, lambda: x + sigma * tf.random.stateless_normal(tf.shape(x), seeds[9]),
                lambda: x)
    return tf.clip_by_value(x, 0.0, 255.0)
