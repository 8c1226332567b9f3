"""Functional backbones returning `{"P2".."P5"}` feature maps (stride 2^n)."""

from portrait_garden.backbones.mobilenet_v2 import (
    OUTPUT_STRIDE,
    make_divisible,
    mobilenet_v2_features,
)

BACKBONES = {"mobilenet_v2": mobilenet_v2_features}
"""Backbone name (as used in configs) -> feature builder."""

__all__ = ["BACKBONES", "OUTPUT_STRIDE", "make_divisible", "mobilenet_v2_features"]
