"""Segmentation head with deep supervision, and the person detector head."""

from portrait_garden.heads.detector_head import detector_neck, person_detector_head
from portrait_garden.heads.segmentation_head import (
    LEVEL_STRIDES,
    SIDE_LEVELS,
    segmentation_decoder,
)

__all__ = [
    "LEVEL_STRIDES", "SIDE_LEVELS", "detector_neck", "person_detector_head",
    "segmentation_decoder",
]
