"""Portrait segmentation decoder: deep supervision, categorical attention, boundary.

Implements the decoder of Zhu et al., ICME 2019 (Sec. 3), on a `{"P2".."P5"}`
feature pyramid.
"""

from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM, conv_bn_act, separable_conv_bn_act
from portrait_garden.layers.boundary_enhancement import boundary_enhancement

SIDE_LEVELS = ("P5", "P4", "P3")
"""Decoder depths with a deep-supervision head, coarse to fine."""

LEVEL_STRIDES = {"P2": 4, "P3": 8, "P4": 16, "P5": 32}


def segmentation_decoder(
    features,
    filters=64,
    deep_supervision=True,
    categorical_attention=True,
    boundary_enhancement_enabled=True,
    bn_momentum=BN_MOMENTUM,
):
    """Builds the decoder on a feature pyramid.

    1. Top-down path: `D5 = Conv1x1(P5)`, `D_l = SepConv(Up2(D_{l+1}) +
       Conv1x1(P_l))` for l = 4, 3.
    2. Deep supervision: a 1x1 head on each of D5, D4, D3 predicts person
       logits `S_l` (`deep_supervision=True`).
    3. Cross-granularity categorical attention (`categorical_attention=True`):
       `D_l <- D_l + ConvBNReLU1x1(CategoricalAttention([D_l, S_k for k != l]))`.
    4. Multi-level fusion at stride 8, `F = D3 + Up2(D4) + Up4(D5)`, then
       upsampled to stride 4.
    5. Cross-granularity boundary enhancement with P2
       (`boundary_enhancement_enabled=True`; otherwise a plain skip), and a
       1x1 head giving the mask logits at stride 4.

    Args:
      features: dict with keys `"P2"`..`"P5"` (strides 4..32).
      filters: int, decoder width `D`. Defaults to 64.
      deep_supervision: bool, side heads on D5, D4, D3. Defaults to True.
      categorical_attention: bool, requires `deep_supervision`. Defaults to True.
      boundary_enhancement_enabled: bool. Defaults to True.
      bn_momentum: float. Defaults to 0.9.

    Returns:
      dict with `"mask"` (logits `[B, H/4, W/4, 1]`), `"side_p5"`, `"side_p4"`,
      `"side_p3"` (logits at their level's stride, when `deep_supervision`) and
      `"boundary"` (logits at stride 4, when boundary enhancement is on), and
      `"features"`: the fused stride-4 features `[B, H/4, W/4, D]` the mask
      head reads (for the detector head and the affinity grouping).
    """
    if categorical_attention and not deep_supervision:
        raise ValueError(
            "categorical_attention=True needs deep_supervision=True: the attention "
            "re-weights features by the side heads' category predictions. Turn "
            "deep_supervision on or categorical_attention off."
        )
    layers = namespace.layers()
    missing = [k for k in ("P2", "P3", "P4", "P5") if k not in features]
    if missing:
        raise ValueError(f"segmentation_decoder needs features {missing}; got {sorted(features)}.")

    levels = {}
    x = conv_bn_act(features["P5"], filters, 1, name="decoder_p5_lateral",
                    bn_momentum=bn_momentum)
    levels["P5"] = x
    for level in ("P4", "P3"):
        tag = level.lower()
        up = layers.UpSampling2D(2, interpolation="bilinear", name=f"decoder_{tag}_up")(x)
        lateral = conv_bn_act(features[level], filters, 1, name=f"decoder_{tag}_lateral",
                              bn_momentum=bn_momentum)
        x = layers.Add(name=f"decoder_{tag}_merge")([up, lateral])
        x = separable_conv_bn_act(x, filters, name=f"decoder_{tag}_refine",
                                  bn_momentum=bn_momentum)
        levels[level] = x

    outputs = {}
    if deep_supervision:
        side = {
            level: layers.Conv2D(1, 1, name=f"side_{level.lower()}_logits")(levels[level])
            for level in SIDE_LEVELS
        }
        outputs.update({f"side_{level.lower()}": side[level] for level in SIDE_LEVELS})
        if categorical_attention:
            attended = {}
            for level in SIDE_LEVELS:
                tag = level.lower()
                others = [side[k] for k in SIDE_LEVELS if k != level]
                attention = namespace.custom_layer("CategoricalAttention")
                a = attention(name=f"attention_{tag}")([levels[level], *others])
                a = conv_bn_act(a, filters, 1, name=f"attention_{tag}_proj",
                                bn_momentum=bn_momentum)
                attended[level] = layers.Add(name=f"attention_{tag}_residual")(
                    [levels[level], a])
            levels = attended

    fused = layers.Add(name="decoder_fuse")([
        levels["P3"],
        layers.UpSampling2D(2, interpolation="bilinear", name="decoder_fuse_up_p4")(
            levels["P4"]),
        layers.UpSampling2D(4, interpolation="bilinear", name="decoder_fuse_up_p5")(
            levels["P5"]),
    ])
    fused = layers.UpSampling2D(2, interpolation="bilinear", name="decoder_fuse_up")(fused)
    fused, boundary_logits = boundary_enhancement(
        fused, features["P2"], filters, enhance=boundary_enhancement_enabled,
        name="boundary", bn_momentum=bn_momentum)
    if boundary_logits is not None:
        outputs["boundary"] = boundary_logits
    outputs["mask"] = layers.Conv2D(1, 1, name="mask_logits")(fused)
    outputs["features"] = fused
    return outputs
