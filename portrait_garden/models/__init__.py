"""Model builders: the portrait segmenter (and, later, the end-to-end instance model)."""

from portrait_garden.models.builder import build_segmenter
from portrait_garden.models.portrait_segmenter import (
    OUTPUT_STRIDES,
    PortraitSegmenter,
    check_image_size,
)
from portrait_garden.models.stats import count_flops, model_summary

__all__ = [
    "OUTPUT_STRIDES",
    "PortraitSegmenter",
    "build_segmenter",
    "check_image_size",
    "count_flops",
    "model_summary",
]
