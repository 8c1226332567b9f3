"""Magnitude pruning: float model -> pruning model -> stripped sparse model."""

import numpy as np
import tensorflow_model_optimization as tfmot
import tf_keras as keras

_sp = tfmot.sparsity.keras

MIN_PRUNABLE_WEIGHTS = 1024
"""Kernels smaller than this (1-channel heads, the stem) are left dense."""


def is_prunable(layer):
    """True for the layers pruning targets: Conv2D (not depthwise) and Dense kernels
    with at least `MIN_PRUNABLE_WEIGHTS` weights. Depthwise kernels are tiny and
    sensitive; batch norm and weight-free layers have nothing to prune."""
    if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
        return False
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return False
    return int(np.prod(layer.kernel.shape)) >= MIN_PRUNABLE_WEIGHTS


def prune_model(model, target_sparsity=0.5, begin_step=0, end_step=1000, frequency=100):
    """Wraps a model for low-magnitude pruning with a polynomial-decay schedule.

    Sparsity ramps from 0 at `begin_step` to `target_sparsity` at `end_step`.
    Only layers for which `is_prunable` holds are wrapped (so the sparsity is
    of those kernels). Train with the callbacks of `pruning_callbacks()`, then
    `strip_pruning`.

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
        if is_prunable(layer):
            return _sp.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    return keras.models.clone_model(model, clone_function=wrap)


def pruning_callbacks(log_dir=None):
    """The callbacks pruning needs during `fit` (plus summaries if `log_dir`)."""
    callbacks = [_sp.UpdatePruningStep()]
    if log_dir:
        callbacks.append(_sp.PruningSummaries(log_dir=log_dir))
    return callbacks


def strip_pruning(model):
    """Removes the pruning wrappers, keeping the (sparse) weights."""
    return _sp.strip_pruning(model)


def sparsity(model):
    """Fraction of zero weights over the prunable kernels of a stripped model."""
    total = zeros = 0
    for layer in model.layers:
        if is_prunable(layer):
            v = layer.kernel.numpy()
            total += v.size
            zeros += int((v == 0).sum())
    return zeros / total if total else 0.0
