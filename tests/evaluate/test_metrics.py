import numpy as np
import pytest

from portrait_garden.evaluate import PersonIoU, person_iou


def test_person_iou_hand_case():
    truth = np.zeros((1, 4, 4, 1), "float32")
    truth[0, :2, :, 0] = 1          # 8 person pixels
    logits = np.full((1, 4, 4, 1), -1.0, "float32")
    logits[0, 1:3, :, 0] = 1.0      # 8 predicted, 4 overlap -> IoU 4 / 12
    metric = PersonIoU()
    metric.update_state(truth, logits)
    np.testing.assert_allclose(float(metric.result()), 4 / 12, rtol=1e-6)
    assert person_iou(logits > 0, truth > 0.5) == 4 / 12


def test_person_iou_accumulates_over_batches_and_ignores():
    metric = PersonIoU()
    truth = np.ones((1, 2, 2, 1), "float32")
    metric.update_state(truth, np.ones_like(truth))          # 4 / 4
    truth2 = np.array([1, 0, -1, -1], "float32").reshape(1, 2, 2, 1)
    metric.update_state(truth2, np.ones_like(truth2))        # 1 / 2, two ignored
    np.testing.assert_allclose(float(metric.result()), 5 / 6, rtol=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_empty_masks_agree_perfectly():
    empty = np.zeros((3, 3), bool)
    assert person_iou(empty, empty) == 1.0
    assert person_iou(empty, ~empty) == 0.0


def test_miou_2class_hand_case():
    from portrait_garden.evaluate import confusion_2class, miou_2class

    truth = np.zeros((4, 4), bool)
    truth[:2] = True                    # 8 person, 8 background
    pred = np.zeros((4, 4), bool)
    pred[1:3] = True                    # person IoU 4/12, background IoU 4/12
    confusion = confusion_2class(pred, truth)
    assert confusion.tolist() == [[4, 4], [4, 4]]
    assert miou_2class(confusion) == pytest.approx(4 / 12)
    valid = np.ones((4, 4), bool)
    valid[2:] = False                   # only rows 0-1 count: person 4/8, background 0/4
    assert miou_2class(confusion_2class(pred, truth, valid)) == pytest.approx((0.5 + 0) / 2)
    assert miou_2class(confusion_2class(truth, truth)) == 1.0


def test_boundary_f_score_perfect_shifted_and_empty():
    from portrait_garden.evaluate import boundary_f_score

    truth = np.zeros((40, 40), bool)
    truth[10:30, 10:30] = True
    assert boundary_f_score(truth, truth, tolerance=0) == 1.0
    shifted = np.roll(truth, 2, axis=1)
    assert boundary_f_score(shifted, truth, tolerance=2) == 1.0   # within tolerance
    assert boundary_f_score(shifted, truth, tolerance=0) < 0.7    # vertical edges miss
    far = np.roll(truth, 8, axis=1)
    assert boundary_f_score(far, truth, tolerance=3) < boundary_f_score(shifted, truth,
                                                                        tolerance=3)
    empty = np.zeros_like(truth)
    assert boundary_f_score(empty, empty) == 1.0
    assert boundary_f_score(empty, truth) == 0.0
    # Edges in an ignored region do not count.
    valid = np.ones_like(truth)
    valid[:, 25:] = False
    wrong_right = truth.copy()
    wrong_right[10:30, 25:38] = True
    assert boundary_f_score(wrong_right, truth, valid, tolerance=0) == 1.0
