"""Cross-granularity boundary enhancement (Zhu et al., ICME 2019, Sec. 3.2).

Built from stock layers only (STYLE.md, convention 3): quantization and pruning
handle it without custom configs.
"""

from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM, conv_bn_act, separable_conv_bn_act


def boundary_enhancement(
    deep, shallow, filters, enhance=True, name="boundary", bn_momentum=BN_MOMENTUM
):
    """Fuses shallow high-resolution features into the deep decoder path.

    With `enhance=True` (the paper's block):

        E = SepConv(Conv1x1(shallow))            # edge/shape features, stride 4
        B = Conv1x1(E)                           # boundary logits, supervised by
                                                 # the boundary band of the mask
        out = SepConv(concat[deep, E, sigmoid(B)])

    `E` is pushed by the boundary loss to encode person outlines; the deep path
    receives both those features and the explicit boundary probability, which
    sharpens the final mask along the outline.

    With `enhance=False` (ablation) the block is a plain U-Net skip:
    `out = SepConv(concat[deep, Conv1x1(shallow)])` and no boundary logits.

    Args:
      deep: float tensor `[B, h, w, D]`, deep decoder features at the same
        resolution as `shallow`.
      shallow: float tensor `[B, h, w, C]`, shallow backbone features (P2).
      filters: int, `D`, output channels.
      enhance: bool, build the boundary-supervised branch. Defaults to True.
      name: str, prefix of layer names. Defaults to `"boundary"`.
      bn_momentum: float. Defaults to 0.9.

    Returns:
      `(fused, boundary_logits)`: `fused` is `[B, h, w, D]`; `boundary_logits`
      is `[B, h, w, 1]`, or `None` when `enhance=False`.
    """
    lateral = conv_bn_act(
        shallow, filters, 1, name=f"{name}_lateral", bn_momentum=bn_momentum
    )
    if not enhance:
        x = namespace.layers().Concatenate(name=f"{name}_skip_concat")([deep, lateral])
        return separable_conv_bn_act(
            x, filters, name=f"{name}_skip_fuse", bn_momentum=bn_momentum
        ), None
    edges = separable_conv_bn_act(
        lateral, filters, name=f"{name}_edge", bn_momentum=bn_momentum
    )
    logits = namespace.layers().Conv2D(1, 1, name=f"{name}_logits")(edges)
    prob = namespace.layers().Activation("sigmoid", name=f"{name}_prob")(logits)
    x = namespace.layers().Concatenate(name=f"{name}_concat")([deep, edges, prob])
    fused = separable_conv_bn_act(
        x, filters, name=f"{name}_fuse", bn_momentum=bn_momentum
    )
    return fused, logits
