"""Stock-layer building blocks shared by the backbone and the decoder.

Every block is a function over stock Keras layers with deterministic names, so
tensorflow-model-optimization can fold batch norm into convolutions and quantize
them without any custom `QuantizeConfig` (STYLE.md, convention 3).
"""

from portrait_garden.layers import namespace

BN_MOMENTUM = 0.9
"""Batch-norm momentum used everywhere in the package.

Keras' default (0.99) lags far behind the weights when training from scratch on
a few thousand images: validation in inference mode collapses while the training
loss falls. 0.9 tracks the statistics closely enough.
"""

BN_EPSILON = 1e-3


def conv_bn_act(
    x,
    filters,
    kernel_size=1,
    strides=1,
    activation="relu6",
    name="conv",
    bn_momentum=BN_MOMENTUM,
    padding="same",
):
    """Conv2D -> BatchNorm -> activation, with layers `{name}_conv|_bn|_relu`.

    Args:
      x: float tensor `[B, H, W, C]`.
      filters: int, output channels.
      kernel_size: int, square kernel size. Defaults to 1.
      strides: int. Defaults to 1.
      activation: `"relu6"`, `"relu"` or `None` (linear). Defaults to `"relu6"`.
      name: str, prefix of the layer names.
      bn_momentum: float, batch-norm momentum. Defaults to 0.9.
      padding: `"same"` (Keras: a stride-2 conv pads bottom/right only) or
        `"symmetric"` (pads `kernel_size // 2` on every side, as torch does,
        through a `{name}_pad` ZeroPadding2D layer). Defaults to `"same"`.

    Returns:
      Tensor `[B, H / strides, W / strides, filters]`.
    """
    x, conv_padding = _pad(x, kernel_size, strides, padding, name)
    x = namespace.layers().Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=conv_padding,
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = namespace.batch_normalization(
        momentum=bn_momentum, epsilon=BN_EPSILON, name=f"{name}_bn"
    )(x)
    return _activation(x, activation, name)


def depthwise_bn_act(
    x, kernel_size=3, strides=1, activation="relu6", name="dw", bn_momentum=BN_MOMENTUM,
    padding="same",
):
    """DepthwiseConv2D -> BatchNorm -> activation (layers `{name}_dwconv|_bn|_relu`).

    `padding` as in `conv_bn_act`.
    """
    x, conv_padding = _pad(x, kernel_size, strides, padding, name)
    x = namespace.layers().DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding=conv_padding,
        use_bias=False,
        name=f"{name}_dwconv",
    )(x)
    x = namespace.batch_normalization(
        momentum=bn_momentum, epsilon=BN_EPSILON, name=f"{name}_bn"
    )(x)
    return _activation(x, activation, name)


def separable_conv_bn_act(
    x, filters, kernel_size=3, activation="relu6", name="sep", bn_momentum=BN_MOMENTUM
):
    """Depthwise 3x3 -> BN -> act -> pointwise 1x1 -> BN -> act.

    Written as two stock blocks (not `SeparableConv2D`) so that each
    convolution gets its own folded batch norm under quantization.

    Args:
      x: float tensor `[B, H, W, C]`.
      filters: int, output channels of the pointwise convolution.
      kernel_size: int, depthwise kernel size. Defaults to 3.
      activation: activation after both convolutions. Defaults to `"relu6"`.
      name: str, prefix: layers are `{name}_dw_*` and `{name}_pw_*`.
      bn_momentum: float. Defaults to 0.9.

    Returns:
      Tensor `[B, H, W, filters]`.
    """
    x = depthwise_bn_act(
        x, kernel_size, activation=activation, name=f"{name}_dw", bn_momentum=bn_momentum
    )
    return conv_bn_act(
        x, filters, 1, activation=activation, name=f"{name}_pw", bn_momentum=bn_momentum
    )


PADDINGS = ("same", "symmetric")


def _pad(x, kernel_size, strides, padding, name):
    """Explicit symmetric padding for strided convs; returns `(x, conv padding)`.

    With stride 1 (odd kernel) Keras' `"same"` already pads symmetrically, so only
    strided convs get a `{name}_pad` layer.
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}.")
    if padding == "same" or strides == 1 or kernel_size == 1:
        return x, "same"
    x = namespace.layers().ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
    return x, "valid"


def _activation(x, activation, name):
    if activation is None:
        return x
    if activation == "relu6":
        return namespace.layers().ReLU(max_value=6.0, name=f"{name}_relu")(x)
    if activation == "relu":
        return namespace.layers().ReLU(name=f"{name}_relu")(x)
    raise ValueError(
        f"Unknown activation {activation!r}: use 'relu6', 'relu' or None."
    )
