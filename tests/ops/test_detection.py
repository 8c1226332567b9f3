import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.ops import box_iou_matrix, decode_centers
from portrait_garden.ops.detection import greedy_nms


def _heatmap(peaks, size=16):
    heat = np.full((size, size, 1), -8.0, np.float32)
    box = np.zeros((size, size, 2), np.float32)
    for (y, x), score, hw in peaks:
        heat[y, x, 0] = np.log(score / (1 - score))
        box[y, x] = hw
    return tf.constant(heat), tf.constant(box)


def test_peaks_become_boxes_sorted_and_padded():
    heat, size = _heatmap([((4, 4), 0.6, (0.5, 0.25)), ((10, 12), 0.9, (0.25, 0.25))])
    boxes, scores, valid = decode_centers(heat, size, max_detections=4, score_threshold=0.3)
    assert valid.numpy().tolist() == [True, True, False, False]
    np.testing.assert_allclose(scores.numpy()[:2], [0.9, 0.6], rtol=1e-5)
    cy, cx = 10.5 / 16, 12.5 / 16
    np.testing.assert_allclose(boxes.numpy()[0], [cy - 0.125, cx - 0.125, cy + 0.125,
                                                  cx + 0.125], atol=1e-6)
    assert not boxes.numpy()[2:].any() and not scores.numpy()[2:].any()


def test_no_peak_above_threshold_gives_no_detection():
    heat, size = _heatmap([((4, 4), 0.2, (0.5, 0.5))])
    _, _, valid = decode_centers(heat, size, score_threshold=0.3)
    assert not valid.numpy().any()


def test_overlapping_duplicate_is_suppressed():
    heat, size = _heatmap([((8, 8), 0.9, (0.8, 0.8)), ((8, 11), 0.8, (0.8, 0.8)),
                           ((2, 2), 0.7, (0.1, 0.1))])
    _, scores, valid = decode_centers(heat, size, max_detections=4, nms_iou=0.6)
    assert valid.numpy().sum() == 2
    np.testing.assert_allclose(scores.numpy()[:2], [0.9, 0.7], rtol=1e-5)


def _greedy_reference(boxes, valid, threshold):
    iou = box_iou_matrix(tf.constant(boxes, tf.float32)).numpy()
    keep = []
    for j in range(len(boxes)):
        keep.append(bool(valid[j]) and not any(keep[i] and iou[i, j] > threshold
                                               for i in range(j)))
    return keep


def test_suppressed_boxes_suppress_nothing_on_chained_overlaps():
    # A > B > C in score; A overlaps B, B overlaps C, A does not overlap C. Greedy NMS keeps
    # A and C (B, suppressed by A, cannot suppress C); one-shot "fast NMS" kept only A.
    a, b, c = [0.0, 0.0, 1.0, 1.0], [0.0, 0.3, 1.0, 1.3], [0.0, 0.6, 1.0, 1.6]
    boxes = tf.constant([a, b, c], tf.float32)
    iou = box_iou_matrix(boxes).numpy()
    assert iou[0, 1] > 0.5 and iou[1, 2] > 0.5 and iou[0, 2] < 0.5
    assert greedy_nms(boxes, tf.constant([True, True, True]), 0.5).numpy().tolist() == \
        [True, False, True]


def test_greedy_nms_matches_the_sequential_definition_on_random_chains():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = 8
        x0 = np.sort(rng.uniform(0, 2, n))              # boxes sliding along a row: chains
        boxes = np.stack([np.zeros(n), x0, np.ones(n), x0 + rng.uniform(0.5, 1.5, n)], 1)
        valid = rng.uniform(size=n) < 0.85
        got = greedy_nms(tf.constant(boxes, tf.float32), tf.constant(valid), 0.4).numpy()
        assert got.tolist() == _greedy_reference(boxes, valid, 0.4)


def test_iou_matrix():
    iou = box_iou_matrix(tf.constant([[0, 0, 1, 1], [0, 0, 0.5, 1], [2, 2, 3, 3]],
                                     tf.float32)).numpy()
    assert iou[0, 1] == pytest.approx(0.5) and iou[0, 2] == 0 and iou[1, 1] == pytest.approx(1)
