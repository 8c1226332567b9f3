"""Deep supervision, boundary and detection losses."""

from portrait_garden.losses.detection import BoxSizeLoss, CenterHeatmapLoss
from portrait_garden.losses.segmentation import (
    DETECTOR_OUTPUTS,
    IGNORE_LABEL,
    UNSUPERVISED_OUTPUTS,
    BoundaryLoss,
    SegmentationLoss,
    bce_dice,
    build_losses,
    targets_for_outputs,
)

__all__ = [
    "DETECTOR_OUTPUTS",
    "UNSUPERVISED_OUTPUTS",
    "IGNORE_LABEL",
    "BoundaryLoss",
    "BoxSizeLoss",
    "CenterHeatmapLoss",
    "SegmentationLoss",
    "bce_dice",
    "build_losses",
    "targets_for_outputs",
]
