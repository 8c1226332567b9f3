"""Quantization-aware training: float model -> QAT model (Default8Bit scheme)."""

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from portrait_garden.layers.categorical_attention import CategoricalAttention
from portrait_garden.layers.quantize_configs import OutputQuantizeConfig

_qk = tfmot.quantization.keras

# Layers the default 8-bit registry does not cover, and the config each gets.
_CUSTOM_QUANTIZE_CONFIGS = {
    CategoricalAttention: OutputQuantizeConfig,
    keras.layers.Rescaling: OutputQuantizeConfig,
}


def quantize_scope():
    """`tfmot` quantize scope that also knows the package's configs and layers.

    Use it to `load_model` a saved QAT model, or around `quantize_apply` on a
    model annotated by hand.
    """
    return _qk.quantize_scope({
        "OutputQuantizeConfig": OutputQuantizeConfig,
        "CategoricalAttention": CategoricalAttention,
    })


def annotate_for_quantization(model):
    """Annotates every layer for QAT; the package's own layers with their configs.

    One `clone_model` pass does what `tfmot`'s `quantize_annotate_model` does after
    a hand-annotation pass (each clone of the network costs seconds, and
    `quantize_apply` clones it four more times).

    Returns the annotated model (sharing weights with `model`), ready for
    `tfmot.quantization.keras.quantize_apply` inside `quantize_scope()`.

    Raises:
      ValueError: `model` holds a nested `keras.Model` or a `Lambda` layer (tfmot
        cannot quantize either).
    """
    def annotate(layer):
        if isinstance(layer, (keras.Model, keras.layers.Lambda)):
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) cannot be "
                             "quantized: tfmot needs a flat functional model of layers "
                             "with known quantize configs.")
        return _qk.quantize_annotate_layer(
            layer, _CUSTOM_QUANTIZE_CONFIGS.get(type(layer), lambda: None)())

    return keras.models.clone_model(model, clone_function=annotate)


SCHEMES = ("default", "prune_preserve")


def _scheme(name):
    if name == "default":
        return _qk.default_8bit.Default8BitQuantizeScheme()
    if name == "prune_preserve":
        return tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    raise ValueError(f"Unknown quantization scheme {name!r}; available: {list(SCHEMES)}.")


def quantize_model(model, scheme="default"):
    """Returns the QAT (fake-quantized, Default8Bit) version of a float model.

    Batch norm is folded into the preceding convolutions; weights are
    quantized per channel, activations per tensor. Train it a few epochs from
    the float weights (STYLE.md, convention 8), then convert with
    `portrait_garden.export.convert_to_tflite(..., quantization="int8")`.

    Args:
      model: a functional float `keras.Model` (e.g. `PortraitSegmenter`).
      scheme: `"default"` (Default8Bit) or `"prune_preserve"` (keeps the zeros
        of a pruned, stripped model through QAT). Defaults to `"default"`.

    Returns:
      A new functional `keras.Model` with the same inputs and outputs.

    Example:
    >>> qat = quantize_model(float_model)
    >>> qat.compile(...); qat.fit(...)
    """
    scheme = _scheme(scheme)
    annotated = annotate_for_quantization(model)
    with quantize_scope():
        return _qk.quantize_apply(annotated, scheme)
