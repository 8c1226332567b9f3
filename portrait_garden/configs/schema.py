"""Frozen dataclass schema of an experiment (what a recipe YAML may set)."""

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Arguments of `portrait_garden.models.PortraitSegmenter`.

    Attributes:
      backbone: backbone name. Defaults to `"mobilenet_v2"`.
      image_size: `(height, width)`, multiples of 32. Defaults to `(256, 256)`.
      width_multiplier: backbone width (alpha). Defaults to 1.0.
      decoder_filters: decoder width. Defaults to 64.
      deep_supervision: side heads at three decoder depths. Defaults to True.
      categorical_attention: cross-granularity categorical attention. Defaults to True.
      boundary_enhancement: cross-granularity boundary enhancement. Defaults to True.
      bn_momentum: batch-norm momentum. Defaults to 0.9.
    """

    backbone: str = "mobilenet_v2"
    image_size: Tuple[int, int] = (256, 256)
    width_multiplier: float = 1.0
    decoder_filters: int = 64
    deep_supervision: bool = True
    categorical_attention: bool = True
    boundary_enhancement: bool = True
    bn_momentum: float = 0.9


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Weights of `portrait_garden.losses.build_losses`.

    Attributes:
      ce_weight: BCE weight inside each segmentation loss. Defaults to 1.0.
      dice_weight: Dice weight inside each segmentation loss. Defaults to 1.0.
      side_weight: weight of each deep-supervision side loss. Defaults to 0.4.
      boundary_weight: weight of the boundary loss. Defaults to 1.0.
      boundary_width: half-width in pixels of the boundary band. Defaults to 3.
    """

    ce_weight: float = 1.0
    dice_weight: float = 1.0
    side_weight: float = 0.4
    boundary_weight: float = 1.0
    boundary_width: int = 3


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: one recipe YAML resolves to one of these."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
