"""Builds models from configs."""

import dataclasses

from portrait_garden.configs.schema import ExperimentConfig, ModelConfig
from portrait_garden.models.portrait_segmenter import PortraitSegmenter


def build_segmenter(config):
    """Builds the `PortraitSegmenter` an `ExperimentConfig` or `ModelConfig` describes.

    Example:
    >>> from portrait_garden.configs import load_config
    >>> model = build_segmenter(load_config("recipes/portrait_seg_mbv2_256.yaml"))
    """
    if isinstance(config, ExperimentConfig):
        config = config.model
    if not isinstance(config, ModelConfig):
        raise TypeError(f"build_segmenter takes an ExperimentConfig or ModelConfig, "
                        f"got {type(config).__name__}.")
    return PortraitSegmenter(**dataclasses.asdict(config))
