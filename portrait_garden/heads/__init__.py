"""Segmentation head with deep supervision (and, later, the person detector head)."""

from portrait_garden.heads.segmentation_head import (
    LEVEL_STRIDES,
    SIDE_LEVELS,
    segmentation_decoder,
)

__all__ = ["LEVEL_STRIDES", "SIDE_LEVELS", "segmentation_decoder"]
