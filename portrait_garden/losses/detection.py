"""Detector losses: CenterNet focal loss on the centre heatmap, L1 on box sizes."""

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package="PortraitGarden")
class CenterHeatmapLoss(keras.losses.Loss):
    """Penalty-reduced pixel-wise focal loss of CenterNet (Zhou et al., 2019, Eq. 1).

    `y_true` is the Gaussian target heatmap `[B, h, w, 1]` (1 at centres, negative
    where nothing is labelled: those cells are ignored, as CenterNet ignores crowd
    regions), `y_pred` the logits. Normalized by the number of centres (at least 1).

    Args:
      alpha: float, focusing exponent. Defaults to 2.0.
      beta: float, exponent reducing the penalty near centres. Defaults to 4.0.
    """

    def __init__(self, alpha=2.0, beta=4.0, name="center_heatmap_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha = alpha
        self.beta = beta

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        logits = tf.cast(y_pred, tf.float32)
        p = tf.sigmoid(logits)
        log_p = tf.math.log_sigmoid(logits)
        log_not_p = tf.math.log_sigmoid(-logits)
        pos = tf.cast(y_true >= 0.999, tf.float32)
        pos_loss = -pos * tf.pow(1.0 - p, self.alpha) * log_p
        neg = (1.0 - pos) * tf.cast(y_true >= 0.0, tf.float32)
        neg_loss = -neg * tf.pow(1.0 - tf.maximum(y_true, 0.0), self.beta) \
            * tf.pow(p, self.alpha) * log_not_p
        axes = [1, 2, 3]
        num_pos = tf.maximum(tf.reduce_sum(pos, axes), 1.0)
        return (tf.reduce_sum(pos_loss, axes) + tf.reduce_sum(neg_loss, axes)) / num_pos

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.utils.register_keras_serializable(package="PortraitGarden")
class BoxSizeLoss(keras.losses.Loss):
    """L1 loss on box (height, width) at the centre pixels only.

    `y_true` is `[B, h, w, 3]`: the target sizes (2 channels) and a mask of
    centre pixels (1 channel); `y_pred` is `[B, h, w, 2]`.
    """

    def __init__(self, name="box_size_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.float32)
        size, mask = y_true[..., :2], y_true[..., 2:3]
        l1 = tf.abs(tf.cast(y_pred, tf.float32) - size) * mask
        return tf.reduce_sum(l1, [1, 2, 3]) / tf.maximum(tf.reduce_sum(mask, [1, 2, 3]), 1.0)
