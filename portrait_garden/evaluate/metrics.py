"""Segmentation metrics as Keras metrics (training) and NumPy functions (evaluation)."""

import numpy as np
import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="PortraitGarden")
class PersonIoU(keras.metrics.Metric):
    """Dataset-level person IoU from logits: `sum(P & T) / sum(P | T)`.

    Pixels with a negative target (the ignore label) are left out. Predictions
    are `logits > 0` (probability > 0.5).

    Args:
      name: str. Defaults to `"person_iou"`.
    """

    def __init__(self, name="person_iou", **kwargs):
        super().__init__(name=name, **kwargs)
        self.intersection = self.add_weight("intersection", initializer="zeros", dtype=tf.float64)
        self.union = self.add_weight("union", initializer="zeros", dtype=tf.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.float32)
        valid = y_true >= 0.0
        truth = tf.logical_and(y_true > 0.5, valid)
        pred = tf.logical_and(tf.cast(y_pred, tf.float32) > 0.0, valid)
        inter = tf.reduce_sum(tf.cast(tf.logical_and(truth, pred), tf.float64))
        union = tf.reduce_sum(tf.cast(tf.logical_or(truth, pred), tf.float64))
        self.intersection.assign_add(inter)
        self.union.assign_add(union)

    def result(self):
        return tf.cast(tf.math.divide_no_nan(self.intersection, self.union), tf.float32)

    def reset_state(self):
        self.intersection.assign(0.0)
        self.union.assign(0.0)


def person_iou(pred, truth, valid=None):
    """IoU of two boolean masks (NumPy). Both empty -> 1.0.

    Args:
      pred, truth: bool arrays of one shape.
      valid: optional bool array, pixels that count.

    Returns:
      float.
    """
    pred = np.asarray(pred, bool)
    truth = np.asarray(truth, bool)
    if valid is not None:
        pred, truth = pred & valid, truth & valid
    union = np.logical_or(pred, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, truth).sum() / union)


def _edges(labels):
    """bool map of pixels whose right or lower neighbour has another label."""
    labels = np.asarray(labels)
    edge = np.zeros(labels.shape, bool)
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return edge


def boundary_recall(segments, truth, tolerance=2):
    """Fraction of ground-truth region boundary pixels within `tolerance` pixels
    (Chebyshev) of a boundary of `segments` (the superpixel benchmark metric).

    Args:
      segments, truth: int label maps of one shape.
      tolerance: int. Defaults to 2.

    Returns:
      float in [0, 1] (1.0 when `truth` has no boundary).
    """
    from scipy.ndimage import maximum_filter

    truth_edges = _edges(truth)
    if not truth_edges.any():
        return 1.0
    near = maximum_filter(_edges(segments), size=2 * tolerance + 1)
    return float((truth_edges & near).sum() / truth_edges.sum())


def boundary_f_score(pred, truth, valid=None, tolerance=3):
    """Boundary F-score of a predicted person mask (Perazzi et al. 2016, the DAVIS
    "F" measure): precision is the fraction of predicted boundary pixels within
    `tolerance` pixels (Chebyshev) of a true boundary pixel, recall the converse;
    F is their harmonic mean.

    Args:
      pred, truth: bool masks of one shape.
      valid: optional bool mask; boundary pixels outside it (e.g. crowd or
        unlabelled regions) are not counted.
      tolerance: int pixels. Defaults to 3.

    Returns:
      float in [0, 1]: 1.0 when neither mask has a boundary, 0.0 when only one has.
    """
    from scipy.ndimage import maximum_filter

    pred_edges = _edges(np.asarray(pred, bool))
    truth_edges = _edges(np.asarray(truth, bool))
    if valid is not None:
        pred_edges &= valid
        truth_edges &= valid
    if not pred_edges.any() and not truth_edges.any():
        return 1.0
    if not pred_edges.any() or not truth_edges.any():
        return 0.0
    size = 2 * tolerance + 1
    precision = (pred_edges & maximum_filter(truth_edges, size=size)).sum() / pred_edges.sum()
    recall = (truth_edges & maximum_filter(pred_edges, size=size)).sum() / truth_edges.sum()
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


def edge_agreement(labels, probability, band=8, threshold=0.5):
    """Share of the pixels within `band` px of the `probability > threshold` edge
    where `labels > 0` says the same (1.0 when the per-person masks follow the
    probability exactly; network-resolution labels nearest-upsampled to a large
    photo score lower, their edges being stair-steps).

    Args:
      labels: int `[H, W]` instance labels (0 background).
      probability: float `[H, W]` person probability.
      band: half-width in pixels of the band around the edge.
      threshold: person threshold of the probability.

    Returns:
      float in [0, 1]; 1.0 when the probability has no edge.
    """
    from scipy import ndimage

    person = np.asarray(probability) > threshold
    near = ndimage.binary_dilation(person, iterations=band) & \
        ~ndimage.binary_erosion(person, iterations=band)
    if not near.any():
        return 1.0
    return float(np.mean((np.asarray(labels) > 0)[near] == person[near]))


def confusion_2class(pred, truth, valid=None):
    """`[2, 2]` int64 confusion counts (rows: truth background/person; columns: pred)."""
    pred = np.asarray(pred, bool)
    truth = np.asarray(truth, bool)
    if valid is None:
        valid = np.ones(pred.shape, bool)
    t, p = truth[valid], pred[valid]
    return np.array([[np.sum(~t & ~p), np.sum(~t & p)],
                     [np.sum(t & ~p), np.sum(t & p)]], np.int64)


def person_iou_from_confusion(confusion):
    """Person IoU from `confusion_2class` counts (1.0 when neither side has a person)."""
    union = confusion[1, 1] + confusion[0, 1] + confusion[1, 0]
    return float(confusion[1, 1] / union) if union else 1.0


def miou_2class(confusion):
    """Mean of background IoU and person IoU from `confusion_2class` counts (summed
    over a dataset for the dataset-level figure)."""
    confusion = np.asarray(confusion, np.float64)
    ious = []
    for c in (0, 1):
        union = confusion[c, :].sum() + confusion[:, c].sum() - confusion[c, c]
        ious.append(confusion[c, c] / union if union else 1.0)
    return float(np.mean(ious))
