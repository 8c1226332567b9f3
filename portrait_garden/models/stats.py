"""Model size figures: parameters, FLOPs and output shapes."""

import numpy as np
import tf_keras as keras


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def count_flops(model):
    """FLOPs of one forward pass, counted as 2 x multiply-adds.

    Counts convolutions (grouped and depthwise included) and dense layers,
    which dominate the cost; batch norm (folded at export), activations,
    additions and resizes are not counted. Batch size 1.

    Args:
      model: a built `keras.Model` with static spatial shapes.

    Returns:
      int, FLOPs.
    """
    macs = 0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, h, w, _ = layer.output_shape
            kh, kw = layer.kernel_size
            macs += h * w * kh * kw * layer.input_shape[-1] * layer.depth_multiplier
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output_shape
            kh, kw = layer.kernel_size
            c_in = layer.input_shape[-1] // layer.groups
            macs += h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            macs += int(np.prod(layer.input_shape[1:])) * layer.units
    return 2 * int(macs)


def model_summary(model):
    """Returns a dict of the figures `portrait-garden info` prints.

    Keys: `params` (all), `trainable_params`, `flops`, `outputs`
    (name -> shape list with batch size `None`).
    """
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    outputs = model.output
    if isinstance(outputs, dict):
        shapes = {k: list(v.shape) for k, v in outputs.items()}
    else:
        shapes = {"output": list(outputs.shape)}
    return {
        "params": int(model.count_params()),
        "trainable_params": trainable,
        "flops": count_flops(model),
        "outputs": shapes,
    }
