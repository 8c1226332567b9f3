"""The end-to-end instance model of the paper: uint8 photo in, one mask per person out,
in one graph (`InstanceSegmenter`, a `tf.Module` that export writes as a SavedModel).

Network (segmentation + person detector) -> box decoding -> superpixels ->
non-parametric affinity grouping, all TF ops, so one SavedModel converts to one
.tflite that runs on the stock LiteRT runtime.
"""

import numpy as np
import tensorflow as tf
import tf_keras as keras

from portrait_garden.configs.schema import ServingConfig
from portrait_garden.models.portrait_segmenter import FEATURES_OUTPUT
from portrait_garden.ops.affinity import GROUPINGS, group_instances
from portrait_garden.ops.detection import decode_centers
from portrait_garden.ops.resample import (
    guided_coefficients,
    letterbox,
    undo_letterbox,
    upsample_nearest,
)
from portrait_garden.saving import as_tf_keras

OUTPUT_NAMES = ("instance_labels", "boxes", "scores", "num_instances", "person_probability")


def serving_network(model):
    """The Keras network with only the outputs the pipeline reads: the mask, the
    detector's heatmap and sizes, and the decoder `features` output."""
    needed = ("mask", "center_heatmap", "box_size")
    missing = [k for k in needed if k not in model.output]
    if missing:
        raise ValueError(f"The model lacks outputs {missing}: the instance pipeline needs a "
                         "segmenter built with detector=True (e.g. "
                         "recipes/portrait_instance_mbv2_256.yaml).")
    if FEATURES_OUTPUT not in model.output:
        raise ValueError(f"The model has no {FEATURES_OUTPUT!r} output (the decoder features "
                         "the affinity grouping compares): a functional copy saved before "
                         "detector networks had that output, e.g. an old QAT .h5. Build a "
                         "PortraitSegmenter from its config and copy its weights "
                         "(portrait_garden.train.init_from_saved), then quantize again.")
    outputs = {k: model.output[k] for k in (*needed, FEATURES_OUTPUT)}
    return keras.Model(model.input, outputs, name="serving_network")


def _compact(owner, boxes, scores, valid):
    """Drops detections that own no pixel of `owner` and renumbers `owner` 1..N."""
    n = boxes.shape[0]
    counts = tf.reduce_sum(tf.one_hot(tf.reshape(owner, [-1]), n + 1, dtype=tf.float32), 0)
    keep = valid & (counts[1:] > 0)
    keepf = tf.cast(keep, tf.float32)
    new_ids = tf.cumsum(keepf) * keepf                                       # [N]
    lookup = tf.concat([tf.zeros([1]), new_ids], 0)
    labels = tf.cast(tf.gather(lookup, owner), tf.int32)
    order = tf.argsort(tf.where(keep, scores, scores - 2.0), direction="DESCENDING",
                       stable=True)
    keep = tf.gather(keep, order)
    boxes = tf.where(keep[:, None], tf.gather(boxes, order), 0.0)
    scores = tf.where(keep, tf.gather(scores, order), 0.0)
    return labels, boxes, scores, tf.reduce_sum(tf.cast(keep, tf.int32))


class InstanceSegmenter(tf.Module):
    """Portrait instance segmentation of one photo of any size, in one TF graph.

    `serve` (the exported `serving_default` signature) takes a uint8 image
    `[1, H, W, 3]` and returns:

    - `instance_labels` int32 `[H, W]`: 0 background, 1..N one label per person;
    - `boxes` float32 `[N_max, 4]` (ymin, xmin, ymax, xmax) normalized to the
      photo, zeros past `num_instances`;
    - `scores` float32 `[N_max]`, descending, zeros past `num_instances`;
    - `num_instances` int32 `[]`;
    - `person_probability` float32 `[H, W]` in [0, 1]: bilinear from the network's
      map, or with `refine_radius` > 0 (the shipped presets) the guided filter's fit
      to the photo's grey levels.

    Args:
      model: a `PortraitSegmenter` built with `detector=True` (tf_keras, or
        Keras 3 from `portrait_garden.keras3`: converted to tf_keras).
      config: `ServingConfig`. Defaults to `ServingConfig()`.

    Example:
    >>> segmenter = InstanceSegmenter(model)
    >>> out = segmenter.segment(photo)            # photo: uint8 [H, W, 3]
    >>> out["instance_labels"].shape == photo.shape[:2]
    """

    def __init__(self, model, config=None):
        super().__init__(name="instance_segmenter")
        self.config = config or ServingConfig()
        if self.config.grouping not in GROUPINGS:
            raise ValueError(f"grouping must be one of {GROUPINGS}, got "
                             f"{self.config.grouping!r}.")
        taps = self.config.resize_taps
        if isinstance(taps, bool) or not isinstance(taps, int) or taps < 2:
            raise ValueError(f"resize_taps must be an int >= 2 (taps per axis of the "
                             f"letterbox filter), got {taps!r}.")
        radius, eps = self.config.refine_radius, self.config.refine_eps
        if isinstance(radius, bool) or not isinstance(radius, int) or radius < 0:
            raise ValueError(f"refine_radius must be an int >= 0 (0: bilinear upsampling of "
                             f"the person probability), got {radius!r}.")
        if not eps > 0:
            raise ValueError(f"refine_eps must be > 0, got {eps!r}.")
        cell = self.config.refine_cell
        model = as_tf_keras(model)
        self.network = serving_network(model)
        self.size = tuple(int(v) for v in model.input.shape[1:3])
        if (isinstance(cell, bool) or not isinstance(cell, int) or cell < 1
                or any(v % cell for v in self.size)):
            raise ValueError(f"refine_cell must be an int >= 1 dividing the network size "
                             f"{self.size}, got {cell!r}.")
        if any(s % (self.config.group_scale * self.config.grid[i])
               for i, s in enumerate(self.size)):
            raise ValueError(f"Network size {self.size} must be divisible by group_scale x "
                             f"grid = {self.config.group_scale} x {self.config.grid}.")
        cells = [s // (self.config.group_scale * g) for s, g in zip(self.size, self.config.grid)]
        if min(cells) < 2:
            raise ValueError(
                f"Network size {self.size} with group_scale {self.config.group_scale} and "
                f"grid {tuple(self.config.grid)} gives superpixel cells of {cells} pixels; "
                "they need at least 2. Use a network of at least "
                f"{2 * self.config.group_scale * max(self.config.grid)} pixels a side or a "
                "coarser serving grid.")
        self.serve = tf.function(
            self._serve,
            input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, name="image")])

    def _serve(self, image):
        canvas, window = letterbox(image, self.size, self.config.resize_taps)
        net = self.network(canvas, training=False)
        owner, boxes, scores, num, prob = instances_from_outputs(net, canvas, self.config,
                                                                 threshold=False)
        refine = None
        if self.config.refine_radius:
            refine = (guided_coefficients(prob, canvas, window, self.config.refine_radius,
                                          self.config.refine_eps, self.config.refine_cell),
                      image)
        return undo_letterbox(owner, boxes, scores, num, prob, window, tf.shape(image)[1:3],
                              threshold=self.config.mask_threshold, refine=refine)

    def segment(self, image):
        """Runs `serve` on one photo with input checks; returns NumPy arrays.

        Args:
          image: uint8 array `[H, W, 3]` (or `[1, H, W, 3]`), RGB.

        Raises:
          ValueError: wrong dtype, rank, channel count or an empty image.
        """
        image = check_photo(image)
        out = self.serve(tf.constant(image[None]))
        return {k: v.numpy() for k, v in out.items()}


def instances_from_outputs(net, canvas, config, threshold=True):
    """Network outputs -> instances at network resolution (decode, group, compact).

    Batch axes are dropped with static reshapes, not `x[0]` / `x[None]`:
    TFLite turns those into RESHAPE + STRIDED_SLICE pairs, and a strided slice
    copies element by element (~0.2 ms for a 256x256 map on one thread).

    Args:
      net: dict with `mask` logits `[1, H, W, 1]`, `center_heatmap` `[1, H/4,
        W/4, 1]`, `box_size` `[1, H/4, W/4, 2]`, `features` `[1, H/4, W/4, C]`.
      canvas: float32 `[1, H, W, 3]`, the letterboxed photo.
      config: `ServingConfig`.
      threshold: True: `labels` are the persons' pixels (`prob > mask_threshold`).
        False: `labels` are each pixel's owner, also just outside the mask, for
        `undo_letterbox(..., threshold=...)` to threshold the photo-resolution
        probability itself (smooth edges on large photos).

    Returns:
      `(labels [H, W] int32, boxes [N_max, 4], scores [N_max], num int32,
      prob [H, W])`, boxes normalized to the canvas.
    """
    cfg = config
    H, W = canvas.shape[1], canvas.shape[2]
    s = cfg.group_scale
    h, w = H // s, W // s
    prob_4d = tf.sigmoid(net["mask"])                                           # [1, H, W, 1]
    prob = tf.reshape(prob_4d, [H, W])
    heat, sizes = net["center_heatmap"], net["box_size"]
    boxes, scores, valid = decode_centers(
        tf.reshape(heat, heat.shape[1:]), tf.reshape(sizes, sizes.shape[1:]),
        cfg.max_detections, cfg.score_threshold, cfg.nms_iou)
    small_prob = tf.reshape(tf.nn.avg_pool2d(prob_4d, s, s, "VALID"), [h, w])
    small_image = tf.reshape(tf.nn.avg_pool2d(canvas, s, s, "VALID"), [h, w, 3])
    features = net["features"]
    owner = group_instances(small_prob, boxes, valid, small_image,
                            tf.reshape(features, features.shape[1:]),
                            cfg.grouping, cfg.grid, cfg.mask_threshold,
                            iterations=cfg.propagation_iterations,
                            slic_iterations=cfg.slic_iterations,
                            priority=scores >= cfg.priority_score if cfg.priority_score > 0
                            else None)
    # Drop persons without pixels and renumber, at grouping resolution (cheap).
    owner, boxes, scores, num = _compact(owner, boxes, scores, valid)
    # Back to network resolution: person pixels come from the full-resolution mask; a
    # person pixel whose low-resolution cell was background takes a neighbour's owner.
    owner_f = tf.reshape(tf.cast(owner, tf.float32), [1, h, w, 1])
    owner_f = tf.where(owner_f > 0, owner_f, tf.nn.max_pool2d(owner_f, 3, 1, "SAME"))
    owner_full = tf.cast(upsample_nearest(tf.reshape(owner_f, [h, w]), s), tf.int32)
    if not threshold:
        return owner_full, boxes, scores, num, prob
    labels = tf.where(prob > cfg.mask_threshold, owner_full, 0)
    return labels, boxes, scores, num, prob


def check_photo(image):
    """Validates a photo for the pipeline; returns uint8 `[H, W, 3]`.

    Raises:
      ValueError: naming what was wrong and what is accepted.
    """
    image = np.asarray(image)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim == 4:
        raise ValueError(f"Expected one RGB photo of shape [H, W, 3]; got a batch of "
                         f"{image.shape[0]} {image.shape}. The pipeline takes one photo per "
                         "call: loop over the batch.")
    if image.ndim == 2:
        raise ValueError(f"Expected one RGB photo of shape [H, W, 3]; got shape {image.shape}, "
                         "a grayscale image: stack it to RGB with np.stack([g] * 3, -1).")
    if image.ndim != 3:
        raise ValueError(f"Expected one RGB photo of shape [H, W, 3]; got shape {image.shape}.")
    if image.shape[-1] != 3:
        raise ValueError(f"Expected 3 channels (RGB); got {image.shape[-1]}. Drop the alpha "
                         "channel of RGBA images with image[..., :3].")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"The image is empty (shape {image.shape}).")
    if image.dtype != np.uint8:
        raise ValueError(f"Expected dtype uint8 (0-255); got {image.dtype}. Convert floats in "
                         "[0, 1] with (image * 255).round().astype(np.uint8).")
    return image
