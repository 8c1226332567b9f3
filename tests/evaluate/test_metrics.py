import numpy as np

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
