"""Magnitude pruning: float model -> pruning model -> stripped sparse model."""

import numpy as np
import tensorflow_model_optimization as tfmot
import tf_keras as keras

_sp = tfmot.sparsity.keras

MIN_PRUNABLE_WEIGHTS = 256
"""Kernels smaller than this are left dense: in the MobileNetV2 models, the first
depthwise kernel, the first 1x1 projection and the 1- and 2-channel heads."""


@keras.utils.register_keras_serializable(package="PortraitGarden")
class PrunableDepthwiseConv2D(keras.layers.DepthwiseConv2D):
    """`DepthwiseConv2D` whose depthwise kernel tfmot may prune.

    tfmot's registry accepts `DepthwiseConv2D` but prunes none of its weights. In
    MobileNetV2 the 3x3 depthwise kernels are ~6% of the parameters, and leaving
    them dense keeps the gzip'd float .tflite of a "50% pruned" model ~4% larger.
    Only used inside pruning runs: `strip_pruning` turns it back into a plain
    `DepthwiseConv2D`.
    """

    def get_prunable_weights(self):
        return [self.depthwise_kernel]


def _kernel(layer):
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return layer.depthwise_kernel
    return layer.kernel


def is_prunable(layer):
    """True for the layers pruning targets: Conv2D, DepthwiseConv2D and Dense
    kernels with at least `MIN_PRUNABLE_WEIGHTS` weights. Biases, batch norm and
    weight-free layers stay dense."""
    if not isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                              keras.layers.Dense)):
        return False
    return int(np.prod(_kernel(layer).shape)) >= MIN_PRUNABLE_WEIGHTS


def _replace_layer(layer, cls):
    """A built copy of `layer` as class `cls`, with the same config and weights."""
    new = cls.from_config(layer.get_config())
    new.build(layer.input_shape)
    new.set_weights(layer.get_weights())
    return new


def prune_model(model, target_sparsity=0.5, begin_step=0, end_step=1000, frequency=100):
    """Wraps a model for low-magnitude pruning with a polynomial-decay schedule.

    Sparsity ramps from 0 at `begin_step` to `target_sparsity` at `end_step`.
    Only layers for which `is_prunable` holds are wrapped, so the sparsity is
    that of those kernels; depthwise kernels are pruned too (through
    `PrunableDepthwiseConv2D`). Train with the callbacks of `pruning_callbacks()`,
    then `strip_pruning`.

    Args:
      model: a functional `keras.Model`.
      target_sparsity: float in [0, 1). Defaults to 0.5.
      begin_step, end_step: int optimizer steps. Default to 0 and 1000.
      frequency: int, steps between mask updates. Defaults to 100.

    Returns:
      The pruning-wrapped `keras.Model`.
    """
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target_sparsity must be in [0, 1), got {target_sparsity}.")
    if end_step <= begin_step:
        raise ValueError(f"end_step ({end_step}) must be greater than begin_step ({begin_step}).")
    schedule = _sp.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=target_sparsity,
        begin_step=begin_step, end_step=end_step, frequency=frequency)

    def wrap(layer):
        if not is_prunable(layer):
            return layer
        if type(layer) is keras.layers.DepthwiseConv2D:
            layer = _replace_layer(layer, PrunableDepthwiseConv2D)
        return _sp.prune_low_magnitude(layer, pruning_schedule=schedule)

    return keras.models.clone_model(model, clone_function=wrap)


def pruning_callbacks(log_dir=None):
    """The callbacks pruning needs during `fit` (plus summaries if `log_dir`)."""
    callbacks = [_sp.UpdatePruningStep()]
    if log_dir:
        callbacks.append(_sp.PruningSummaries(log_dir=log_dir))
    return callbacks


def strip_pruning(model):
    """Removes the pruning wrappers, keeping the (sparse) weights; the model that
    comes out has only built-in Keras layers (besides the package's own)."""
    stripped = _sp.strip_pruning(model)

    def unwrap(layer):
        if isinstance(layer, PrunableDepthwiseConv2D):
            return _replace_layer(layer, keras.layers.DepthwiseConv2D)
        return layer

    if not any(isinstance(layer, PrunableDepthwiseConv2D) for layer in stripped.layers):
        return stripped
    return keras.models.clone_model(stripped, clone_function=unwrap)


def sparsity(model):
    """Fraction of zero weights over the prunable kernels of a stripped model."""
    total = zeros = 0
    for layer in model.layers:
        if is_prunable(layer):
            v = _kernel(layer).numpy()
            total += v.size
            zeros += int((v == 0).sum())
    return zeros / total if total else 0.0
