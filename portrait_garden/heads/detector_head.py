"""Person detector head: CenterNet-style centre heatmap + box size (Zhou et al., 2019)."""

from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM, conv_bn_act, separable_conv_bn_act

HEATMAP_PRIOR_BIAS = -2.19
"""log(0.1 / 0.9): the heatmap starts at probability 0.1, as in CenterNet."""


NECK_FILTERS = 128
"""Width of the detector neck's stride-16 blocks."""


def detector_neck(backbone_features, decoder_features, blocks, name="detector_neck",
                  bn_momentum=BN_MOMENTUM):
    """The detector's own features: backbone P5 + P4 fused at stride 16, `blocks`
    residual separable blocks, then added, upsampled x4, onto the decoder's features.

    The shared stride-4 decoder features are tuned for the person mask; where a
    person's centre is and how big the box is needs context from the deep
    levels. The neck gives the detector that context with its own weights, so
    it can be trained on a frozen segmentation network (`train.trainable`).

    Args:
      backbone_features: dict with `"P4"` `[B, H/16, W/16, C4]` and `"P5"`
        `[B, H/32, W/32, C5]`.
      decoder_features: float tensor `[B, H/4, W/4, C]`, the decoder's fused features.
      blocks: int >= 1, residual separable blocks at stride 16.
      name: str, layer-name prefix. Defaults to `"detector_neck"`.
      bn_momentum: float. Defaults to 0.9.

    Returns:
      Tensor `[B, H/4, W/4, C]`: the detector heads' input.
    """
    layers = namespace.layers()
    p5 = conv_bn_act(backbone_features["P5"], NECK_FILTERS, 1, name=f"{name}_p5",
                     bn_momentum=bn_momentum)
    p5 = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_p5_up")(p5)
    p4 = conv_bn_act(backbone_features["P4"], NECK_FILTERS, 1, name=f"{name}_p4",
                     bn_momentum=bn_momentum)
    x = layers.Add(name=f"{name}_fuse")([p4, p5])
    for i in range(blocks):
        y = separable_conv_bn_act(x, NECK_FILTERS, name=f"{name}_block{i}",
                                  bn_momentum=bn_momentum)
        x = layers.Add(name=f"{name}_block{i}_add")([x, y])
    x = conv_bn_act(x, decoder_features.shape[-1], 1, name=f"{name}_project",
                    bn_momentum=bn_momentum)
    x = layers.UpSampling2D(4, interpolation="bilinear", name=f"{name}_up")(x)
    return layers.Add(name=f"{name}_out")([decoder_features, x])


def person_detector_head(features, filters=64, name="detector", bn_momentum=BN_MOMENTUM):
    """One box per person from the shared stride-4 decoder features.

    Args:
      features: float tensor `[B, H/4, W/4, C]`, the decoder's fused features.
      filters: int, width of the two branches. Defaults to 64.
      name: str, prefix. Defaults to `"detector"`.
      bn_momentum: float. Defaults to 0.9.

    Returns:
      dict: `"center_heatmap"` logits `[B, H/4, W/4, 1]` (a peak at each
      person's box centre) and `"box_size"` `[B, H/4, W/4, 2]` (box height and
      width as fractions of the input, read at the peaks).
    """
    x = separable_conv_bn_act(features, filters, name=f"{name}_heatmap",
                              bn_momentum=bn_momentum)
    heatmap = namespace.layers().Conv2D(
        1, 1, bias_initializer=namespace.keras().initializers.Constant(HEATMAP_PRIOR_BIAS),
        name="center_heatmap")(x)
    y = separable_conv_bn_act(features, filters, name=f"{name}_size", bn_momentum=bn_momentum)
    size = namespace.layers().Conv2D(2, 1, name="box_size")(y)
    return {"center_heatmap": heatmap, "box_size": size}
