"""Segmentation losses: final + deep-supervision side outputs, and the boundary loss.

Targets are float masks `[B, H, W, 1]`: 1 = person, 0 = background and
`IGNORE_LABEL` (-1) for pixels that must not count (COCO crowd regions).
"""

import tensorflow as tf
import tf_keras as keras

from portrait_garden.losses.detection import BoxSizeLoss, CenterHeatmapLoss
from portrait_garden.ops.boundary import boundary_band

IGNORE_LABEL = -1.0


def _valid_and_target(y_true):
    y_true = tf.cast(y_true, tf.float32)
    valid = tf.cast(y_true >= 0.0, tf.float32)
    return valid, tf.clip_by_value(y_true, 0.0, 1.0)


def bce_dice(target, logits, valid, ce_weight=1.0, dice_weight=1.0, smooth=1.0):
    """Per-sample `ce_weight * BCE + dice_weight * (1 - soft Dice)` over valid pixels.

    Args:
      target: float `[B, H, W, 1]` in [0, 1].
      logits: float `[B, H, W, 1]`.
      valid: float `[B, H, W, 1]` in {0, 1}, pixels that count.
      ce_weight, dice_weight: float weights. Default to 1.0.
      smooth: float, Dice smoothing. Defaults to 1.0.

    Returns:
      float32 `[B]`.
    """
    logits = tf.cast(logits, tf.float32)
    axes = [1, 2, 3]
    loss = 0.0
    if ce_weight:
        ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits)
        ce = tf.reduce_sum(ce * valid, axes) / tf.maximum(tf.reduce_sum(valid, axes), 1.0)
        loss += ce_weight * ce
    if dice_weight:
        prob = tf.sigmoid(logits) * valid
        t = target * valid
        inter = tf.reduce_sum(prob * t, axes)
        total = tf.reduce_sum(prob, axes) + tf.reduce_sum(t, axes)
        dice = (2.0 * inter + smooth) / (total + smooth)
        loss += dice_weight * (1.0 - dice)
    return loss


@keras.utils.register_keras_serializable(package="PortraitGarden")
class SegmentationLoss(keras.losses.Loss):
    """BCE + Dice on person logits, for the final mask and each side output.

    Args:
      ce_weight: float. Defaults to 1.0.
      dice_weight: float. Defaults to 1.0.
      name: str. Defaults to `"segmentation_loss"`.
    """

    def __init__(self, ce_weight=1.0, dice_weight=1.0, name="segmentation_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if ce_weight < 0 or dice_weight < 0 or ce_weight + dice_weight == 0:
            raise ValueError(
                "SegmentationLoss needs ce_weight >= 0, dice_weight >= 0 and at least one "
                f"> 0; got ce_weight={ce_weight}, dice_weight={dice_weight}.")
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight

    def call(self, y_true, y_pred):
        valid, target = _valid_and_target(y_true)
        return bce_dice(target, y_pred, valid, self.ce_weight, self.dice_weight)

    def get_config(self):
        return {**super().get_config(), "ce_weight": self.ce_weight,
                "dice_weight": self.dice_weight}


@keras.utils.register_keras_serializable(package="PortraitGarden")
class BoundaryLoss(keras.losses.Loss):
    """Loss of the boundary head; its target is the boundary band of the person mask.

    `y_true` is the person mask itself (not a precomputed band), so every output
    of the model trains from the same target; the band
    (`portrait_garden.ops.boundary_band`) is computed inside the loss.

    Args:
      width: int, half-width of the band in pixels. Defaults to 3.
      ce_weight: float. Defaults to 1.0.
      dice_weight: float. Defaults to 1.0.
      name: str. Defaults to `"boundary_loss"`.
    """

    def __init__(self, width=3, ce_weight=1.0, dice_weight=1.0, name="boundary_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.width = width
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight

    def call(self, y_true, y_pred):
        valid, target = _valid_and_target(y_true)
        band = boundary_band(target, self.width)
        return bce_dice(band, y_pred, valid, self.ce_weight, self.dice_weight)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "ce_weight": self.ce_weight,
                "dice_weight": self.dice_weight}


def build_losses(output_names, ce_weight=1.0, dice_weight=1.0, side_weight=0.4,
                 boundary_weight=1.0, boundary_width=3, heatmap_weight=1.0, size_weight=5.0):
    """Losses and loss weights for `model.compile`, keyed like the model's outputs.

    Args:
      output_names: iterable of output keys (`"mask"`, `"side_p5"`, ...,
        `"boundary"`), e.g. `model.output.keys()`.
      ce_weight, dice_weight: weights inside each segmentation loss.
      side_weight: float, weight of each deep-supervision side loss.
        Defaults to 0.4.
      boundary_weight: float, weight of the boundary loss. Defaults to 1.0.
      boundary_width: int, half-width of the boundary band. Defaults to 3.
      heatmap_weight: float, weight of the detector heatmap loss. Defaults to 1.0.
      size_weight: float, weight of the detector box-size loss. Defaults to 5.0.

    Returns:
      `(losses, loss_weights)`, two dicts keyed by output name.

    Raises:
      ValueError: for an output name that has no loss.
    """
    losses, weights = {}, {}
    for name in output_names:
        if name in UNSUPERVISED_OUTPUTS:
            continue
        if name == "mask":
            losses[name], weights[name] = SegmentationLoss(ce_weight, dice_weight), 1.0
        elif name.startswith("side_"):
            losses[name] = SegmentationLoss(ce_weight, dice_weight, name=f"{name}_loss")
            weights[name] = side_weight
        elif name == "boundary":
            losses[name] = BoundaryLoss(boundary_width, name="boundary_loss")
            weights[name] = boundary_weight
        elif name == "center_heatmap":
            losses[name], weights[name] = CenterHeatmapLoss(), heatmap_weight
        elif name == "box_size":
            losses[name], weights[name] = BoxSizeLoss(), size_weight
        else:
            raise ValueError(f"No loss is defined for model output {name!r}.")
    return losses, weights


DETECTOR_OUTPUTS = ("center_heatmap", "box_size")
UNSUPERVISED_OUTPUTS = ("features",)
"""Outputs without a loss or target (the decoder features of a detector-enabled network)."""


def targets_for_outputs(mask, output_names, detector_targets=None):
    """The target of every output: the person mask `[B, H, W, 1]` for the
    segmentation outputs; for the detector outputs, `detector_targets` (a dict
    with `heatmap`, `size`, `size_mask` from the data pipeline)."""
    targets = {}
    for name in output_names:
        if name in UNSUPERVISED_OUTPUTS:
            continue
        if name in DETECTOR_OUTPUTS:
            if detector_targets is None:
                raise ValueError(f"Output {name!r} needs detector targets (heatmap, size, "
                                 "size_mask); build the dataset with targets=('centernet',).")
            if name == "center_heatmap":
                targets[name] = detector_targets["heatmap"]
            else:
                targets[name] = tf.concat([detector_targets["size"],
                                           detector_targets["size_mask"]], axis=-1)
        else:
            targets[name] = mask
    return targets
