"""Deep supervision, boundary (and, later, detection) losses."""

from portrait_garden.losses.segmentation import (
    IGNORE_LABEL,
    BoundaryLoss,
    SegmentationLoss,
    bce_dice,
    build_losses,
    targets_for_outputs,
)

__all__ = [
    "IGNORE_LABEL",
    "BoundaryLoss",
    "SegmentationLoss",
    "bce_dice",
    "build_losses",
    "targets_for_outputs",
]
