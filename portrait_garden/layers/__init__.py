"""The paper's blocks as Keras layers, and the stock-layer blocks they use."""

from portrait_garden.layers.blocks import (
    BN_MOMENTUM,
    conv_bn_act,
    depthwise_bn_act,
    separable_conv_bn_act,
)
from portrait_garden.layers.boundary_enhancement import boundary_enhancement
from portrait_garden.layers.categorical_attention import CategoricalAttention
from portrait_garden.layers.quantize_configs import OutputQuantizeConfig

__all__ = [
    "BN_MOMENTUM",
    "CategoricalAttention",
    "OutputQuantizeConfig",
    "boundary_enhancement",
    "conv_bn_act",
    "depthwise_bn_act",
    "separable_conv_bn_act",
]
