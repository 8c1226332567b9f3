"""Training targets derived from an instance label map: person mask, boundary, boxes,
CenterNet-style detector targets."""

import tensorflow as tf

from portrait_garden.data.readers import IGNORE, MAX_INSTANCES
from portrait_garden.ops.boundary import boundary_band


def person_mask(labels):
    """float32 `[H, W, 1]`: 1 person, 0 background, -1 ignore (from uint8 `[H, W]` labels)."""
    labels = tf.cast(labels, tf.int32)
    person = tf.cast((labels > 0) & (labels != IGNORE), tf.float32)
    return tf.where(labels == IGNORE, -1.0, person)[..., None]


def boundary_target(mask, width=3):
    """Boundary band `[H, W, 1]` of a person mask `[H, W, 1]`."""
    return boundary_band(mask[None], width)[0]


def instance_boxes(labels, max_instances=MAX_INSTANCES):
    """Boxes of the persons in a label map.

    Args:
      labels: uint8 `[H, W]`, ids 1..max_instances.
      max_instances: int, number of box slots. Defaults to `MAX_INSTANCES`.

    Returns:
      `(boxes, valid)`: float32 `[K, 4]` as (ymin, xmin, ymax, xmax) normalized
      to [0, 1] (pixel-edge coordinates), zeros for absent ids; bool `[K]`.
      Slot `k` holds person id `k + 1`.
    """
    h, w = tf.shape(labels)[0], tf.shape(labels)[1]
    segments = tf.reshape(tf.cast(labels, tf.int32), [-1])
    ys = tf.reshape(tf.tile(tf.range(h)[:, None], [1, w]), [-1])
    xs = tf.reshape(tf.tile(tf.range(w)[None, :], [h, 1]), [-1])
    n = 256  # every uint8 label; slots 1..max_instances are kept
    count = tf.math.unsorted_segment_sum(tf.ones_like(ys), segments, n)[1:max_instances + 1]
    ymin = tf.math.unsorted_segment_min(ys, segments, n)[1:max_instances + 1]
    ymax = tf.math.unsorted_segment_max(ys, segments, n)[1:max_instances + 1] + 1
    xmin = tf.math.unsorted_segment_min(xs, segments, n)[1:max_instances + 1]
    xmax = tf.math.unsorted_segment_max(xs, segments, n)[1:max_instances + 1] + 1
    valid = count > 0
    scale = tf.cast(tf.stack([h, w, h, w]), tf.float32)
    boxes = tf.cast(tf.stack([ymin, xmin, ymax, xmax], axis=1), tf.float32) / scale
    return tf.where(valid[:, None], boxes, 0.0), valid


def centernet_targets(boxes, valid, image_size, stride=4, min_overlap=0.7):
    """CenterNet targets (Zhou et al., 2019) for person boxes.

    Args:
      boxes: float32 `[K, 4]` normalized (ymin, xmin, ymax, xmax).
      valid: bool `[K]`.
      image_size: `(H, W)` of the network input.
      stride: int, output stride of the heatmap. Defaults to 4.
      min_overlap: float, IoU a box shifted by the Gaussian radius keeps;
        sets the radius as in CenterNet. Defaults to 0.7.

    Returns:
      dict with `heatmap` float32 `[H/s, W/s, 1]` (Gaussian peaks at the box
      centres), `size` float32 `[H/s, W/s, 2]` (box height, width normalized,
      at centre pixels), `size_mask` float32 `[H/s, W/s, 1]` (1 at centres).
    """
    oh, ow = image_size[0] // stride, image_size[1] // stride
    boxes = tf.boolean_mask(boxes, valid)
    bh = (boxes[:, 2] - boxes[:, 0]) * oh
    bw = (boxes[:, 3] - boxes[:, 1]) * ow
    cy = (boxes[:, 0] + boxes[:, 2]) / 2.0 * oh
    cx = (boxes[:, 1] + boxes[:, 3]) / 2.0 * ow
    # Radius so that a box moved by it keeps IoU >= min_overlap (simplified bound).
    radius = tf.maximum(0.0, tf.sqrt(bh * bw) * (1.0 - min_overlap) / 2.0)
    sigma = tf.maximum((2.0 * radius + 1.0) / 6.0, 0.5)
    ys = tf.range(oh, dtype=tf.float32)[None, :, None] + 0.5
    xs = tf.range(ow, dtype=tf.float32)[None, None, :] + 0.5
    ciy, cix = tf.floor(cy) + 0.5, tf.floor(cx) + 0.5
    g = tf.exp(-((ys - ciy[:, None, None]) ** 2 + (xs - cix[:, None, None]) ** 2)
               / (2.0 * sigma[:, None, None] ** 2))                        # [N, oh, ow]
    heatmap = tf.reduce_max(tf.concat([g, tf.zeros([1, oh, ow])], 0), axis=0)[..., None]
    iy = tf.clip_by_value(tf.cast(tf.floor(cy), tf.int32), 0, oh - 1)
    ix = tf.clip_by_value(tf.cast(tf.floor(cx), tf.int32), 0, ow - 1)
    idx = tf.stack([iy, ix], axis=1)
    sizes = tf.stack([bh / oh, bw / ow], axis=1)
    # Two centres on one pixel: the later box's size wins (rare at stride 4).
    size = tf.tensor_scatter_nd_update(tf.zeros([oh, ow, 2]), idx, sizes)
    size_mask = tf.tensor_scatter_nd_update(tf.zeros([oh, ow]), idx, tf.ones_like(bh))
    return {"heatmap": heatmap, "size": size, "size_mask": size_mask[..., None]}


def outside_boxes(boxes, valid, out_size):
    """bool `[h, w, 1]`: cells of an `out_size` grid whose centre lies in no valid box.

    Args:
      boxes: float32 `[K, 4]` normalized (ymin, xmin, ymax, xmax).
      valid: bool `[K]`.
      out_size: `(h, w)` of the grid (the heatmap's).
    """
    h, w = out_size
    ys = (tf.range(h, dtype=tf.float32) + 0.5) / h
    xs = (tf.range(w, dtype=tf.float32) + 0.5) / w
    inside_y = (ys[None, :] >= boxes[:, 0:1]) & (ys[None, :] <= boxes[:, 2:3])    # [K, h]
    inside_x = (xs[None, :] >= boxes[:, 1:2]) & (xs[None, :] <= boxes[:, 3:4])    # [K, w]
    inside = inside_y[:, :, None] & inside_x[:, None, :] & valid[:, None, None]
    return tf.logical_not(tf.reduce_any(inside, axis=0))[..., None]
