"""Decoding of the CenterNet person detector to a fixed number of boxes (static shapes)."""

import tensorflow as tf


def box_iou_matrix(boxes):
    """Pairwise IoU of boxes `[N, 4]` (ymin, xmin, ymax, xmax) -> `[N, N]`."""
    ymin, xmin, ymax, xmax = tf.unstack(boxes, axis=-1)
    area = tf.maximum(ymax - ymin, 0.0) * tf.maximum(xmax - xmin, 0.0)
    iy = tf.maximum(tf.minimum(ymax[:, None], ymax[None]) - tf.maximum(ymin[:, None], ymin[None]),
                    0.0)
    ix = tf.maximum(tf.minimum(xmax[:, None], xmax[None]) - tf.maximum(xmin[:, None], xmin[None]),
                    0.0)
    inter = iy * ix
    return inter / tf.maximum(area[:, None] + area[None] - inter, 1e-9)


def greedy_nms(boxes, valid, iou_threshold):
    """Greedy non-maximum suppression with fixed shapes (no dynamic NMS op).

    Boxes are in descending score order. Box `j` is kept if it is valid and
    overlaps no *kept* higher-scored box by more than `iou_threshold`; a box
    that was itself suppressed suppresses nothing (unlike one-shot matrix
    "fast NMS"). Computed as `N` rounds of `keep_j = valid_j and not any_i<j
    (keep_i and IoU_ij > t)` from `keep = valid`: after round `r` the first `r`
    boxes hold their greedy decision, so `N` rounds give exactly greedy NMS.

    Args:
      boxes: float32 `[N, 4]` (ymin, xmin, ymax, xmax), sorted by score.
      valid: bool `[N]`, candidates (e.g. above the score threshold).
      iou_threshold: float.

    Returns:
      bool `[N]`, the kept boxes.
    """
    n = boxes.shape[0]
    iou = box_iou_matrix(boxes)
    earlier = tf.linalg.band_part(tf.ones_like(iou), 0, -1) - tf.eye(n)        # i < j
    overlaps = tf.cast(iou > iou_threshold, tf.float32) * earlier               # [i, j]
    valid_f = tf.cast(valid, tf.float32)
    keep = valid_f
    for _ in range(n):
        suppressors = tf.reduce_max(overlaps * keep[:, None], axis=0)           # [N]
        keep = valid_f * (1.0 - suppressors)
    return keep > 0.5


def decode_centers(heatmap_logits, box_size, max_detections=8, score_threshold=0.3,
                   nms_iou=0.6):
    """Peaks of the centre heatmap -> person boxes, padded to `max_detections`.

    Peaks are local maxima of a 3x3 window (CenterNet's max-pool NMS), the
    top `max_detections` are kept, boxes are centred on the peak pixel with
    the predicted size, and a box overlapping a higher-scored *kept* one by
    more than `nms_iou` is dropped (greedy NMS, `greedy_nms`).

    Args:
      heatmap_logits: float32 `[h, w, 1]` (one image).
      box_size: float32 `[h, w, 2]`, box (height, width) as fractions of the
        input.
      max_detections: int, `N_max`. Defaults to 8.
      score_threshold: float, minimum peak probability. Defaults to 0.3.
      nms_iou: float. Defaults to 0.6.

    Returns:
      `(boxes, scores, valid)`: float32 `[N_max, 4]` (ymin, xmin, ymax, xmax)
      normalized to the network input and clipped to [0, 1], zeros where not
      valid; float32 `[N_max]` scores, sorted descending, 0 where not valid;
      bool `[N_max]`.
    """
    h, w = heatmap_logits.shape[0], heatmap_logits.shape[1]
    heat = tf.sigmoid(heatmap_logits)
    pooled = tf.reshape(tf.nn.max_pool2d(tf.reshape(heat, [1, h, w, 1]), 3, 1, "SAME"), [h, w, 1])
    peaks = tf.where(tf.equal(heat, pooled), heat, tf.zeros_like(heat))
    scores, index = tf.math.top_k(tf.reshape(peaks, [-1]), k=max_detections)
    index = tf.cast(index, tf.int32)
    ys = tf.cast(index // w, tf.float32)
    xs = tf.cast(index % w, tf.float32)
    # A GATHER with [N, 1] indices: the one-hot matmul it replaces becomes TFLite's
    # EMBEDDING_LOOKUP, which rejects a QAT model's int8 table (non-zero zero point).
    sizes = tf.reshape(tf.gather(tf.reshape(box_size, [h * w, 2]), index[:, None]),
                       [-1, 2])                                             # [N, 2]
    cy, cx = (ys + 0.5) / h, (xs + 0.5) / w
    half_h, half_w = tf.maximum(sizes[:, 0], 0.0) / 2.0, tf.maximum(sizes[:, 1], 0.0) / 2.0
    boxes = tf.clip_by_value(tf.stack([cy - half_h, cx - half_w, cy + half_h, cx + half_w], 1),
                             0.0, 1.0)
    valid = scores >= score_threshold
    valid = greedy_nms(boxes, valid, nms_iou)
    # Move the valid boxes first, keeping score order.
    order = tf.argsort(tf.where(valid, scores, scores - 2.0), direction="DESCENDING",
                       stable=True)
    boxes, scores, valid = (tf.gather(boxes, order), tf.gather(scores, order),
                            tf.gather(valid, order))
    boxes = tf.where(valid[:, None], boxes, 0.0)
    scores = tf.where(valid, scores, 0.0)
    return boxes, scores, valid
