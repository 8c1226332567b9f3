"""Person detector head: CenterNet-style centre heatmap + box size (Zhou et al., 2019)."""

from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM, separable_conv_bn_act

HEATMAP_PRIOR_BIAS = -2.19
"""log(0.1 / 0.9): the heatmap starts at probability 0.1, as in CenterNet."""


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
