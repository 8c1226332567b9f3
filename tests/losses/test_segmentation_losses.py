import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.losses import (
    IGNORE_LABEL,
    BoundaryLoss,
    SegmentationLoss,
    build_losses,
)
from portrait_garden.ops import boundary_band


def _square_mask(size=16, lo=4, hi=12):
    m = np.zeros((1, size, size, 1), "float32")
    m[:, lo:hi, lo:hi] = 1.0
    return m


def test_boundary_band_of_a_square():
    band = boundary_band(_square_mask(), width=1).numpy()[0, :, :, 0]
    # 8x8 square, band of half-width 1: the 10x10 dilation minus the 6x6 erosion.
    assert band.sum() == 10 * 10 - 6 * 6
    assert band[8, 8] == 0 and band[4, 4] == 1 and band[3, 3] == 1 and band[0, 0] == 0


def test_boundary_band_rejects_zero_width():
    with pytest.raises(ValueError, match="width"):
        boundary_band(_square_mask(), width=0)


def test_segmentation_loss_is_low_for_right_and_high_for_wrong_logits():
    mask = _square_mask()
    right = (mask * 2 - 1) * 20
    loss = SegmentationLoss()
    assert float(loss(mask, right)) < 0.01
    assert float(loss(mask, -right)) > 1.5


def test_hand_computed_bce_at_zero_logits():
    mask = _square_mask()
    value = SegmentationLoss(ce_weight=1.0, dice_weight=0.0)(mask, np.zeros_like(mask))
    np.testing.assert_allclose(float(value), np.log(2.0), rtol=1e-5)


def test_ignored_pixels_do_not_count():
    mask = _square_mask()
    wrong_logits = (mask * 2 - 1) * -20
    wrong_logits[0, 0, 0, 0] = -20.0  # ... except one background pixel
    assert float(SegmentationLoss()(mask, wrong_logits)) > 1.5
    ignore_all_wrong = np.full_like(mask, IGNORE_LABEL)
    ignore_all_wrong[0, 0, 0, 0] = 0.0  # one valid, correctly predicted pixel
    assert float(SegmentationLoss()(ignore_all_wrong, wrong_logits)) < 0.01


def test_boundary_loss_targets_the_band():
    mask = _square_mask()
    band = boundary_band(mask, width=2).numpy()
    loss = BoundaryLoss(width=2)
    assert float(loss(mask, (band * 2 - 1) * 20)) < 0.01
    assert float(loss(mask, (mask * 2 - 1) * 20)) > 0.5  # the mask itself is not the band


def test_build_losses_follows_the_outputs():
    losses, weights = build_losses(["mask", "side_p5", "boundary"], side_weight=0.25,
                                   boundary_weight=2.0)
    assert set(losses) == {"mask", "side_p5", "boundary"}
    assert weights == {"mask": 1.0, "side_p5": 0.25, "boundary": 2.0}
    assert isinstance(losses["boundary"], BoundaryLoss)
    with pytest.raises(ValueError, match="No loss"):
        build_losses(["mystery"])


def test_loss_config_round_trip():
    loss = BoundaryLoss(width=5, dice_weight=0.5)
    clone = BoundaryLoss.from_config(loss.get_config())
    assert (clone.width, clone.dice_weight) == (5, 0.5)
    with pytest.raises(ValueError, match="ce_weight"):
        SegmentationLoss(ce_weight=0.0, dice_weight=0.0)
    assert tf.is_tensor(loss(_square_mask(), _square_mask()))
