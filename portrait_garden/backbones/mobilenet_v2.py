"""MobileNetV2 backbone (Sandler et al., 2018) returning P2..P5.

Trained from scratch, or initialised from ImageNet at width 1.0
(`portrait_garden.backbones.pretrained`).
"""

from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM, conv_bn_act, depthwise_bn_act

# (expansion t, channels c, repeats n, first stride s) as in the MobileNetV2 paper,
# and the pyramid level whose output the stage ends (None: not an output).
STAGES = (
    (1, 16, 1, 1, None),
    (6, 24, 2, 2, "P2"),
    (6, 32, 3, 2, "P3"),
    (6, 64, 4, 2, None),
    (6, 96, 3, 1, "P4"),
    (6, 160, 3, 2, None),
    (6, 320, 1, 1, "P5"),
)

OUTPUT_STRIDE = 32


def make_divisible(value, divisor=8, min_value=None):
    """Rounds a channel count to a multiple of `divisor` (never down by >10%)."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def inverted_residual(x, expansion, filters, strides, name, bn_momentum=BN_MOMENTUM,
                      padding="same"):
    """MobileNetV2 inverted residual: 1x1 expand -> 3x3 depthwise -> 1x1 linear.

    Args:
      x: float tensor `[B, H, W, C]`.
      expansion: int, expansion factor `t` of the hidden width.
      filters: int, output channels.
      strides: 1 or 2.
      name: str, prefix (`block3_expand_conv`, `block3_dw_dwconv`, ...).
      bn_momentum: float. Defaults to 0.9.
      padding: `"same"` or `"symmetric"` for the strided depthwise conv
        (see `conv_bn_act`). Defaults to `"same"`.

    Returns:
      Tensor `[B, H / strides, W / strides, filters]`; the input is added back
      when shapes allow (stride 1, same channels).
    """
    in_channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = conv_bn_act(y, in_channels * expansion, 1, name=f"{name}_expand",
                        bn_momentum=bn_momentum)
    y = depthwise_bn_act(y, 3, strides, name=f"{name}_dw", bn_momentum=bn_momentum,
                         padding=padding)
    y = conv_bn_act(y, filters, 1, activation=None, name=f"{name}_project",
                    bn_momentum=bn_momentum)
    if strides == 1 and in_channels == filters:
        y = namespace.layers().Add(name=f"{name}_add")([x, y])
    return y


def mobilenet_v2_features(images, width_multiplier=1.0, bn_momentum=BN_MOMENTUM,
                          padding="same"):
    """Builds the MobileNetV2 feature pyramid on a (normalized) image tensor.

    There is no final 1280-channel conv and no classifier: the decoder consumes
    the pyramid directly.

    Args:
      images: float tensor `[B, H, W, 3]`, normalized to [-1, 1]; `H` and `W`
        multiples of 32.
      width_multiplier: float, scales every layer's channels (alpha).
        Defaults to 1.0.
      bn_momentum: float. Defaults to 0.9.
      padding: `"same"` (Keras) or `"symmetric"` (torch: stride-2 3x3 convs
        pad 1 pixel on every side; needed for the ImageNet weights, which were
        trained that way). Defaults to `"same"`.

    Returns:
      dict `{"P2", "P3", "P4", "P5"}` of tensors at strides 4, 8, 16 and 32.
      Channels at width 1.0: 24, 32, 96, 320.

    Example:
    >>> x = keras.Input((256, 256, 3))
    >>> {k: v.shape[1] for k, v in mobilenet_v2_features(x, 0.5).items()}
    {'P2': 64, 'P3': 32, 'P4': 16, 'P5': 8}
    """
    if width_multiplier <= 0:
        raise ValueError(f"width_multiplier must be > 0, got {width_multiplier}.")
    x = conv_bn_act(images, make_divisible(32 * width_multiplier), 3, strides=2,
                    name="stem", bn_momentum=bn_momentum, padding=padding)
    features = {}
    block = 0
    for expansion, channels, repeats, stride, level in STAGES:
        filters = make_divisible(channels * width_multiplier)
        for i in range(repeats):
            x = inverted_residual(x, expansion, filters, stride if i == 0 else 1,
                                  name=f"block{block}", bn_momentum=bn_momentum,
                                  padding=padding)
            block += 1
        if level is not None:
            features[level] = x
    return features
