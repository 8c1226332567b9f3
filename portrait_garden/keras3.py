"""The portrait network and its losses in Keras 3 (`import keras`).

The package trains in tf_keras (Keras 2), because tensorflow-model-optimization
(QAT, pruning) rejects Keras 3 models. Keras 3 users can still load, run,
fine-tune and export the shipped networks:

- `PortraitSegmenter` here builds the *same* graph as
  `portrait_garden.models.PortraitSegmenter`, from the same builder code
  (`portrait_garden.layers.namespace` switches the layer namespace), with the
  same config; `CategoricalAttention` shares its computation with the tf_keras
  layer. Both are registered as `PortraitGarden>...` for `keras.saving`.
- `from_tf_keras` / `to_tf_keras` copy the weights by layer name (a shipped
  preset's `model.keras3.keras` was made with `from_tf_keras`; the exporter
  takes `to_tf_keras(model)`).
- The losses are the tf_keras losses' computations as Keras 3 `Loss` classes
  (`build_losses` mirrors `portrait_garden.losses.build_losses`).

Example:
>>> import keras
>>> import portrait_garden as pg                # registers the Keras 3 classes
>>> model = keras.models.load_model(
...     "saved_models/portrait_instance_mbv2_100_256/model.keras3.keras")
>>> losses, weights = pg.keras3.build_losses(model.output.keys())
>>> model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=losses, loss_weights=weights)
"""

import os
import zipfile

import keras

from portrait_garden.layers import namespace
from portrait_garden.layers.categorical_attention import (
    categorical_attention,
    check_attention_inputs,
    check_interpolation,
)
from portrait_garden.losses import detection as detection_losses
from portrait_garden.losses import segmentation as segmentation_losses
from portrait_garden.models.portrait_segmenter import (
    ARCHITECTURE_KEYS,
    ArchitectureConfig,
    build_network,
    resolve_architecture,
)

KERAS3_MODEL = "model.keras3.keras"
"""File name of a preset's Keras 3 network, next to its tf_keras `model.keras`."""


@keras.saving.register_keras_serializable(package="PortraitGarden")
class CategoricalAttention(keras.layers.Layer):
    """Keras 3 twin of `portrait_garden.layers.CategoricalAttention` (same
    computation, same config)."""

    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        check_interpolation(interpolation)
        self.interpolation = interpolation

    def build(self, input_shape):
        check_attention_inputs(input_shape)
        self.built = True

    def call(self, inputs):
        features, *logits = inputs
        return categorical_attention(features, logits, self.interpolation)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape[0])
        shape[-1] = None if shape[-1] is None else 2 * shape[-1]
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


namespace.register_layer(keras, CategoricalAttention)


@keras.saving.register_keras_serializable(package="PortraitGarden")
class PortraitSegmenter(ArchitectureConfig, keras.Model):
    """Keras 3 twin of `portrait_garden.models.PortraitSegmenter`: the same
    functional graph, layer names, outputs and config.

    Args:
      name: str. Defaults to `"portrait_segmenter"`.
      **kwargs: the architecture arguments of the tf_keras `PortraitSegmenter`
        (`image_size`, `width_multiplier`, ..., `detector`), and `keras.Model`
        arguments. `backbone_weights` is refused: build with tf_keras and
        convert with `from_tf_keras`.
    """

    def __init__(self, name="portrait_segmenter", **kwargs):
        arch_args = {k: kwargs.pop(k) for k in list(kwargs) if k in ARCHITECTURE_KEYS}
        if kwargs.pop("backbone_weights", None) not in (None, "", "none"):
            raise ValueError(
                "The Keras 3 PortraitSegmenter does not load ImageNet weights itself: build "
                "portrait_garden.models.PortraitSegmenter(backbone_weights=...) in tf_keras "
                "and convert it with portrait_garden.keras3.from_tf_keras(model).")
        arch = resolve_architecture(**arch_args)
        with namespace.using(keras):
            images, outputs = build_network(arch)
        super().__init__(inputs=images, outputs=outputs, name=name, **kwargs)
        self._set_architecture(arch)


def copy_weights(source, target):
    """Copies every layer's weights from `source` to `target` by layer name (the
    two may be tf_keras and Keras 3 models of the same architecture).

    Raises:
      ValueError: a layer of `target` with weights is missing from `source`, or
        its weight shapes differ (naming the layer).
    """
    names = {layer.name for layer in source.layers}
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name not in names:
            raise ValueError(f"Layer {layer.name!r} of the target model has no counterpart "
                             "in the source model: the architectures differ.")
        weights = source.get_layer(layer.name).get_weights()
        expected = [tuple(w.shape) for w in layer.weights]
        if [tuple(w.shape) for w in weights] != expected:
            raise ValueError(
                f"Layer {layer.name!r}: source weights {[w.shape for w in weights]} do not "
                f"match the target's {expected}: the architectures differ.")
        layer.set_weights(weights)
    return target


def from_tf_keras(model):
    """A Keras 3 `PortraitSegmenter` with the weights of a tf_keras one."""
    return copy_weights(model, PortraitSegmenter.from_config(model.get_config()))


def to_tf_keras(model):
    """A tf_keras `PortraitSegmenter` with the weights of a Keras 3 one, e.g. for
    `portrait_garden.export.export_model` (export, QAT and pruning use tf_keras)."""
    from portrait_garden.models import PortraitSegmenter as TfKerasSegmenter

    if not isinstance(model, PortraitSegmenter):
        raise TypeError(f"to_tf_keras takes a Keras 3 portrait_garden.keras3.PortraitSegmenter, "
                        f"got {type(model).__name__}.")
    return copy_weights(model, TfKerasSegmenter.from_config(model.get_config()))


def load_model(path, compile=False):
    """Loads a portrait-garden `.keras` file in Keras 3: a preset's
    `model.keras3.keras`, or a tf_keras `model.keras` (same registered names and
    config, so Keras 3 reads it too).

    Raises:
      FileNotFoundError: nothing at `path`.
      ValueError: `path` is a tf_keras `.h5` file or a SavedModel folder, which
        Keras 3 cannot open; the message names what to use instead.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved model at {path}.")
    if os.path.isdir(path) or not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a .keras archive: a tf_keras .h5 file (QAT/pruning "
            "checkpoints) or a SavedModel folder, which Keras 3 cannot load as a model. "
            "Load it with portrait_garden.load_model(path) (tf_keras) and convert it with "
            "portrait_garden.keras3.from_tf_keras(model); run a whole-pipeline SavedModel "
            "in Keras 3 with keras.layers.TFSMLayer(path, call_endpoint='serving_default').")
    return keras.saving.load_model(path, compile=compile)


def write_keras3_twin(keras2_path, out_path=None):
    """Converts a tf_keras portrait-garden `.keras` file to a Keras 3 one.

    Args:
      keras2_path: str, a tf_keras `model.keras`.
      out_path: str. Defaults to `KERAS3_MODEL` next to `keras2_path`.

    Returns:
      The path written (atomically: a temporary file, then a rename).
    """
    from portrait_garden.saving import load_portrait_model

    out_path = out_path or os.path.join(os.path.dirname(os.fspath(keras2_path)), KERAS3_MODEL)
    model = from_tf_keras(load_portrait_model(keras2_path))
    tmp = out_path[: -len(".keras")] + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, out_path)
    return out_path


def _keras3_loss(base):
    """A Keras 3 `Loss` class computing exactly the tf_keras loss class `base`.

    Its constructor takes `base`'s arguments; a `base` instance validates them and
    fills their defaults, and `call` is `base.call` itself.
    """
    default = base()
    params = [k for k in default.get_config() if k not in ("name", "reduction")]

    def __init__(self, name=default.name, reduction="sum_over_batch_size", **config):
        keras.losses.Loss.__init__(self, name=name, reduction=reduction)
        reference = base(**config)
        for key in params:
            setattr(self, key, getattr(reference, key))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction,
                **{key: getattr(self, key) for key in params}}

    cls = type(base.__name__, (keras.losses.Loss,), {
        "__init__": __init__, "call": base.call, "get_config": get_config,
        "__doc__": f"Keras 3 twin of `{base.__module__}.{base.__name__}`.",
        "__module__": __name__,
    })
    return keras.saving.register_keras_serializable(package="PortraitGarden")(cls)


SegmentationLoss = _keras3_loss(segmentation_losses.SegmentationLoss)
BoundaryLoss = _keras3_loss(segmentation_losses.BoundaryLoss)
CenterHeatmapLoss = _keras3_loss(detection_losses.CenterHeatmapLoss)
BoxSizeLoss = _keras3_loss(detection_losses.BoxSizeLoss)
LOSSES = {cls.__name__: cls for cls in (SegmentationLoss, BoundaryLoss, CenterHeatmapLoss,
                                        BoxSizeLoss)}


def build_losses(output_names, **kwargs):
    """`portrait_garden.losses.build_losses` with Keras 3 losses: `(losses,
    loss_weights)` dicts keyed by output name, for `model.compile`."""
    losses, weights = segmentation_losses.build_losses(output_names, **kwargs)
    def twin(loss):
        config = {k: v for k, v in loss.get_config().items() if k != "reduction"}
        return LOSSES[type(loss).__name__].from_config(config)

    return {key: twin(loss) for key, loss in losses.items()}, weights
