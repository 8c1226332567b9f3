"""Which Keras the functional builders create layers with.

The network's builders (`backbones/`, `heads/`, `layers/`, `models/`) ask this
module for the layer namespace instead of importing one. The default is
tf_keras (Keras 2): training, QAT and pruning need it, because
tensorflow-model-optimization rejects Keras 3 models. `portrait_garden.keras3`
builds the same graph with Keras 3 inside `using(keras)`.

Example:
>>> from portrait_garden.layers import namespace
>>> namespace.keras().__name__
'tf_keras'
"""

import contextlib

import tf_keras

_STACK = [tf_keras]
_CUSTOM_LAYERS = {}     # Keras module name -> {layer name: class}
_BATCH_NORM_OPTIONS = [{}]


def keras():
    """The Keras module the builders use now (`tf_keras` unless inside `using`)."""
    return _STACK[-1]


def layers():
    """`keras().layers`."""
    return _STACK[-1].layers


def batch_normalization(**kwargs):
    """A `BatchNormalization` layer of `keras()`; inside `synchronized_batch_norm()`
    its batch statistics are computed over all replicas of a distribution strategy."""
    return layers().BatchNormalization(**{**_BATCH_NORM_OPTIONS[-1], **kwargs})


@contextlib.contextmanager
def synchronized_batch_norm(enabled=True):
    """Builds batch norm with `synchronized=True` inside the block (when `enabled`):
    with several replicas, each normalizes by the global batch's mean and variance."""
    _BATCH_NORM_OPTIONS.append({"synchronized": True} if enabled else {})
    try:
        yield
    finally:
        _BATCH_NORM_OPTIONS.pop()


def register_layer(keras_module, cls):
    """Makes `cls` the package layer `cls.__name__` for builders using `keras_module`."""
    _CUSTOM_LAYERS.setdefault(keras_module.__name__, {})[cls.__name__] = cls
    return cls


def custom_layer(name):
    """The package's layer class `name` (e.g. `"CategoricalAttention"`) for `keras()`."""
    module = keras().__name__
    try:
        return _CUSTOM_LAYERS[module][name]
    except KeyError:
        raise RuntimeError(
            f"No {name} layer is registered for {module}. For Keras 3 import "
            "portrait_garden.keras3 first.") from None


@contextlib.contextmanager
def using(keras_module):
    """Builds with `keras_module` (`tf_keras` or Keras 3's `keras`) inside the block."""
    _STACK.append(keras_module)
    try:
        yield keras_module
    finally:
        _STACK.pop()
