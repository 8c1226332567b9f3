"""The paper's models: the portrait segmentation network (`PortraitSegmenter`, with
the optional person detector) and the end-to-end instance model (`InstanceSegmenter`:
network + detector decoding + superpixels + affinity grouping, one TF graph)."""

from portrait_garden.models.builder import build_segmenter
from portrait_garden.models.instance_segmenter import (
    InstanceSegmenter,
    ServingConfig,
    check_photo,
    instances_from_outputs,
    serving_network,
)
from portrait_garden.models.portrait_segmenter import (
    OUTPUT_STRIDES,
    PortraitSegmenter,
    check_image_size,
)
from portrait_garden.models.stats import count_flops, model_summary

__all__ = [
    "OUTPUT_STRIDES",
    "InstanceSegmenter",
    "PortraitSegmenter",
    "ServingConfig",
    "build_segmenter",
    "check_image_size",
    "check_photo",
    "count_flops",
    "instances_from_outputs",
    "model_summary",
    "serving_network",
]
