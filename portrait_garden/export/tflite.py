"""TFLite conversion of Keras models and inference with the LiteRT runtime."""

import os

import numpy as np
import tensorflow as tf

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")


def _serving_function(model, output_names):
    image_spec = model.input
    spec = tf.TensorSpec([1, *image_spec.shape[1:]], tf.float32, name="image")

    @tf.function(input_signature=[spec])
    def serve(image):
        outputs = model(image, training=False)
        if not isinstance(outputs, dict):
            outputs = {"output": outputs}
        names = output_names or sorted(outputs)
        unknown = [n for n in names if n not in outputs]
        if unknown:
            raise ValueError(f"Model has no outputs {unknown}; it has {sorted(outputs)}.")
        return {n: outputs[n] for n in names}

    return serve


def _variables_only(model):
    """A `tf.Module` that tracks `model`'s variables and nothing else.

    The converter saves its trackable object as a SavedModel before converting. Given the
    Keras model itself it traces every layer's call functions for that SavedModel (about
    2/3 of a conversion's time, e.g. 99 s of 145 s for a small QAT network); the concrete
    function only needs the variables it captures.
    """
    holder = tf.Module()
    holder.model_variables = list(model.variables)
    return holder


def convert_to_tflite(model, quantization="float32", output_names=None,
                      representative_images=None):
    """Converts a Keras model (batch 1) to a TFLite flatbuffer with builtin ops only.

    Args:
      model: `keras.Model` with one image input `[B, H, W, 3]` (static H, W).
      quantization: one of `"float32"`, `"float16"` (float16 weights),
        `"dynamic"` (int8 weights, float activations) or `"int8"` (full-integer:
        int8 weights and activations, float32 input/output interface; needs
        `representative_images`, for QAT models too).
      output_names: optional list of output keys to keep (default: all).
      representative_images: iterable of float32 arrays `[1, H, W, 3]` in
        [0, 255], used to calibrate `"int8"`.

    Returns:
      bytes, the .tflite flatbuffer, with one `serving_default` signature whose
      input is `image` and whose outputs are the model's output keys.
    """
    serve = _serving_function(model, output_names)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], _variables_only(model))
    images = list(representative_images or [])
    if quantization == "int8" and not images:
        raise ValueError("quantization='int8' needs representative_images: a few "
                         "(50-200) real float32 images [1, H, W, 3] in [0, 255] to "
                         "calibrate activation ranges (also for QAT models).")
    configure_quantization(converter, quantization,
                           lambda: ([np.asarray(i, np.float32)] for i in images))
    return converter.convert()


def configure_quantization(converter, quantization, representative_dataset=None,
                           float_fallback=False):
    """Sets a `TFLiteConverter` up for one of `QUANTIZATIONS` (builtin ops only).

    Args:
      converter: `tf.lite.TFLiteConverter`.
      quantization: `"float32"`, `"float16"`, `"dynamic"` or `"int8"`.
      representative_dataset: callable yielding input lists, for `"int8"`.
      float_fallback: for `"int8"`, also allow float builtin kernels (ops kept
        float on purpose, e.g. by a quantization deny-list). Defaults to False.

    Returns:
      The converter.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}.")
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float32":
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] + (
            [tf.lite.OpsSet.TFLITE_BUILTINS] if float_fallback else [])
        converter.representative_dataset = representative_dataset
    return converter


def write_tflite(model, path, **kwargs):
    """Converts with `convert_to_tflite(model, **kwargs)` and writes `path`."""
    data = convert_to_tflite(model, **kwargs)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


class TFLiteRunner:
    """Runs a .tflite file's `serving_default` signature with `ai_edge_litert`.

    Args:
      model: path to a .tflite file, or its bytes.
      num_threads: int, CPU threads. Defaults to 1.

    Example:
    >>> runner = TFLiteRunner("model.tflite")
    >>> outputs = runner(image)   # dict of NumPy arrays
    """

    def __init__(self, model, num_threads=1):
        from ai_edge_litert.interpreter import Interpreter

        if isinstance(model, (bytes, bytearray)):
            self.interpreter = Interpreter(model_content=bytes(model), num_threads=num_threads)
        else:
            if not os.path.isfile(model):
                raise FileNotFoundError(f"No .tflite file at {model}.")
            self.interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner("serving_default")
        self.input_details = self.runner.get_input_details()

    def __call__(self, image):
        name, details = next(iter(self.input_details.items()))
        image = np.asarray(image)
        if tuple(image.shape) != tuple(details["shape"]):
            raise ValueError(f"TFLite model expects input '{name}' of shape "
                             f"{tuple(details['shape'])}, got {tuple(image.shape)}.")
        return self.runner(**{name: image.astype(details["dtype"])})


_SHAPE_OPS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "STRIDED_SLICE", "SLICE",
              "GATHER", "UNPACK", "PACK", "CONCATENATION", "SPLIT", "TOPK_V2", "SELECT_V2")
"""Ops that move or pick values without arithmetic: they have float32 kernels too, so an
int8 island made only of them can run in float32 unchanged."""


def strip_float_round_trips(model):
    """Runs int8 round trips of float tensors in float32 again, in a converted .tflite.

    With a quantization deny-list the int8 converter keeps the listed ops float, yet it
    still rounds some of their float32 tensors through int8: a QUANTIZE (float32 -> int8),
    possibly requantizations and value-moving ops (reshape, slice, unpack, top-k) in int8,
    then DEQUANTIZE back to float32. Such an island computes nothing but a rounding error
    at the calibrated scale (boxes at a step of 1 pixel, detection scores at 0.003 with
    ties in the top-k; `results/int8_islands/findings.md`, sections 5-6). Its tensors become
    float32 again, its QUANTIZE and DEQUANTIZE ops are dropped. An island that reaches any
    other int8 op (the quantized network) is left as it is.

    Args:
      model: bytes of a .tflite flatbuffer.

    Returns:
      (bytes, int): the rewritten flatbuffer and the number of ops removed.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    kinds = [names.get(max(c.builtinCode, c.deprecatedBuiltinCode)) for c in tree.operatorCodes]
    float32, int8 = schema.TensorType.FLOAT32, schema.TensorType.INT8
    removed = 0
    for index, graph in enumerate(tree.subgraphs):
        ops, tensors = list(graph.operators), graph.tensors
        consumers = {}
        for op in ops:
            for t in op.inputs:
                consumers.setdefault(int(t), []).append(op)
        replace, drop = {}, set()
        for entry in ops:
            if (kinds[entry.opcodeIndex] != "QUANTIZE" or id(entry) in drop
                    or tensors[entry.inputs[0]].type != float32):
                continue
            island, frontier, ok = {id(entry): entry}, [int(entry.outputs[0])], True
            while frontier and ok:
                for op in consumers.get(frontier.pop(), []):
                    kind = kinds[op.opcodeIndex]
                    if id(op) in island:
                        continue
                    if kind not in ("QUANTIZE", "DEQUANTIZE", *_SHAPE_OPS):
                        ok = False
                        break
                    island[id(op)] = op
                    if kind != "DEQUANTIZE":
                        frontier += [int(t) for t in op.outputs if tensors[t].type == int8]
            # Every int8 input of the island's ops must come from inside it.
            made = {int(t) for op in island.values() for t in op.outputs}
            ok = ok and all(int(t) in made or tensors[t].type != int8
                            for op in island.values() if kinds[op.opcodeIndex] != "QUANTIZE"
                            for t in op.inputs if t >= 0)
            ok = ok and not any(int(t) in graph.outputs for t in made
                                if tensors[t].type == int8)
            if not ok:
                continue
            for op in island.values():
                if kinds[op.opcodeIndex] in ("QUANTIZE", "DEQUANTIZE"):
                    replace[int(op.outputs[0])] = int(op.inputs[0])
                    drop.add(id(op))
                for t in op.outputs:
                    if tensors[t].type == int8:
                        tensors[t].type, tensors[t].quantization = float32, None
        # A chain QUANTIZE -> requantize -> DEQUANTIZE maps its end to its float source.
        for t in replace:
            while replace[t] in replace:
                replace[t] = replace[replace[t]]
        graph.operators = [op for op in ops if id(op) not in drop]
        for op in graph.operators:
            op.inputs = [replace.get(int(t), int(t)) for t in op.inputs]
        graph.outputs = [replace.get(int(t), int(t)) for t in graph.outputs]
        for signature in tree.signatureDefs or []:
            if signature.subgraphIndex == index:
                for output in signature.outputs:
                    output.tensorIndex = replace.get(output.tensorIndex, output.tensorIndex)
        removed += len(drop)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree)), removed


def tflite_op_names(model):
    """Names of the ops a .tflite (path or bytes) uses, e.g. `{"CONV_2D", ...}`."""
    from ai_edge_litert.interpreter import Interpreter

    kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) \
        else {"model_path": str(model)}
    interpreter = Interpreter(**kwargs)
    return {op["op_name"] for op in interpreter._get_ops_details()}
