"""Cross-granularity categorical attention (Zhu et al., ICME 2019, Sec. 3.1)."""

import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from portrait_garden.layers import namespace
from portrait_garden.layers.quantize_configs import OutputQuantizeConfig


def check_interpolation(interpolation):
    """Raises ValueError unless `interpolation` is `"bilinear"` or `"nearest"`."""
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(
            f"CategoricalAttention interpolation must be 'bilinear' or 'nearest', "
            f"got {interpolation!r}."
        )


def check_attention_inputs(input_shape):
    """Raises ValueError unless the shapes are `[features, logits_1, ...]` with
    1-channel logits."""
    if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2:
        raise ValueError(
            "CategoricalAttention expects a list [features, logits_1, ...] with at "
            f"least one logits tensor, got input shape {input_shape}."
        )
    for shape in input_shape[1:]:
        if shape[-1] != 1:
            raise ValueError(
                "CategoricalAttention: every category logits tensor must have 1 "
                f"channel (person logit), got shape {shape}."
            )


def categorical_attention(features, logits, interpolation="bilinear"):
    """The layer's computation in TensorFlow ops (shared by the tf_keras layer and
    the Keras 3 one in `portrait_garden.keras3`); see `CategoricalAttention`."""
    static_size = features.shape[1:3]
    if static_size.is_fully_defined():
        size = static_size.as_list()
    else:
        size = tf.shape(features)[1:3]
    probs = []
    for s in logits:
        if s.shape[1:3] != static_size or not static_size.is_fully_defined():
            s = tf.image.resize(s, size, method=interpolation)
        probs.append(tf.sigmoid(tf.cast(s, features.dtype)))
    # A chain of binary adds, not tf.add_n: TFLite has no int8 ADD_N kernel, so
    # an ADD_N left the int8 network in float here (DEQUANTIZE -> ADD_N ->
    # QUANTIZE at every level, which also split XNNPACK's graph in two).
    person = probs[0]
    for p in probs[1:]:
        person = person + p
    if len(probs) > 1:
        person = person * (1.0 / len(probs))
    return tf.concat([features * (1.0 - person), features * person], axis=-1)


@keras.utils.register_keras_serializable(package="PortraitGarden")
class CategoricalAttention(keras.layers.Layer, tfmot.sparsity.keras.PrunableLayer):
    """Re-weights one decoder level by the category predictions of the others.

    The decoder predicts person/background at several depths (deep supervision).
    For decoder level `j` with features `F_j` (`[B, h_j, w_j, D]`) and the person
    logits `S_k` of the *other* supervised levels `k != j` (`[B, h_k, w_k, 1]`,
    any resolution), the layer computes

        Q_j = 1/K * sum_{k != j} sigmoid(resize_{h_j x w_j}(S_k))   # [B, h_j, w_j, 1]
        output = concat([F_j * (1 - Q_j), F_j * Q_j], axis=-1)      # [B, h_j, w_j, 2D]

    i.e. the features are split into a background-attended and a person-attended
    copy, using category evidence from coarser *and* finer granularities. The
    decoder follows it with a learned 1x1 conv back to `D` channels and a
    residual connection (see `portrait_garden.heads.segmentation_head`), so
    every level carries the same category information; this closes the semantic
    gap between the levels of the hierarchy.

    The layer has no weights. It ships its `QuantizeConfig`
    (`OutputQuantizeConfig`) and is a `PrunableLayer` with nothing to prune, so
    tensorflow-model-optimization accepts models that contain it.

    Args:
      interpolation: str, `"bilinear"` or `"nearest"`, how other levels'
        logits are resized to this level. Defaults to `"bilinear"`.
      **kwargs: standard `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Inputs:
      A list `[features, logits_1, ..., logits_K]`, `K >= 1`.

    Example:
    >>> layer = CategoricalAttention()
    >>> f = tf.zeros([2, 8, 8, 16]); s = tf.zeros([2, 16, 16, 1])
    >>> layer([f, s]).shape
    TensorShape([2, 8, 8, 32])
    """

    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        check_interpolation(interpolation)
        self.interpolation = interpolation

    def build(self, input_shape):
        check_attention_inputs(input_shape)
        super().build(input_shape)

    def call(self, inputs):
        features, *logits = inputs
        return categorical_attention(features, logits, self.interpolation)

    def compute_output_shape(self, input_shape):
        shape = tf.TensorShape(input_shape[0]).as_list()
        shape[-1] = None if shape[-1] is None else 2 * shape[-1]
        return tf.TensorShape(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"interpolation": self.interpolation})
        return config

    def get_prunable_weights(self):
        return []

    @staticmethod
    def quantize_config():
        """The `QuantizeConfig` to annotate this layer with for QAT."""
        return OutputQuantizeConfig()


namespace.register_layer(keras, CategoricalAttention)
