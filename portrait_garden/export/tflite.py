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


def float_post_processing(model, network_prefix="serving_network/"):
    """Runs every int8 op outside the network in float32, in a converted .tflite.

    The int8 whole-pipeline file should run its network in int8 and everything else
    (letterboxing, box decoding, the guided filter, superpixels, grouping) in float32.
    The converter's quantization deny-list does not ensure that:
    - it rounds some deny-listed float32 tensors through int8 (a QUANTIZE, int8
      reshapes, slices or top-k, a DEQUANTIZE): boxes at a step of 1 pixel, scores
      ranked at a step of 0.003;
    - for a QAT network it quantizes whole stretches after the network's outputs (the
      heatmap's sigmoid, peak picking, top-k and score arithmetic, the mask's sigmoid,
      the guided filter's statistics, the grouping features) from the fake-quant ranges.
    (`results/int8_islands/findings.md`, sections 5-7.) Here every op outside the network
    (output tensor names not starting with `network_prefix`) that has int8 inputs or
    outputs and does not feed the network becomes a float32 op: its int8 outputs become float32, an
    int8 input from the network gets a DEQUANTIZE, from a QUANTIZE of a float32 tensor
    that tensor, from a constant a float32 copy; DEQUANTIZE ops left with a float input
    and QUANTIZE ops left without consumers are dropped. Float32 kernels exist for every
    op involved, so the graph stays builtin-only.

    Args:
      model: bytes of a .tflite flatbuffer.
      network_prefix: str, the name prefix of the network's tensors.

    Returns:
      (bytes, int): the rewritten flatbuffer and the number of ops changed (now float32,
      or dropped).
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    kinds = [names.get(max(c.builtinCode, c.deprecatedBuiltinCode)) for c in tree.operatorCodes]
    float32, int8 = schema.TensorType.FLOAT32, schema.TensorType.INT8
    dequantize_code = _operator_code(tree, schema, "DEQUANTIZE")
    converted = 0
    for index, graph in enumerate(tree.subgraphs):
        ops, tensors = list(graph.operators), graph.tensors
        producer = {int(t): op for op in ops for t in op.outputs}
        network = {id(op) for op in ops
                   if any(tensors[t].name.decode().startswith(network_prefix) for t in op.outputs)}
        # Ops whose int8 outputs reach the network (the canvas's QUANTIZE, normalisation).
        feeds, frontier = set(network), [op for op in ops if id(op) in network]
        while frontier:
            for t in frontier.pop().inputs:
                source = producer.get(int(t))
                if source is not None and id(source) not in feeds and tensors[t].type == int8:
                    feeds.add(id(source))
                    frontier.append(source)
        outside = [op for op in ops if id(op) not in feeds]
        # Outside the network a QUANTIZE is an identity: its output is its input.
        replace = {int(op.outputs[0]): int(op.inputs[0]) for op in outside
                   if kinds[op.opcodeIndex] == "QUANTIZE"}

        chosen = [op for op in outside if kinds[op.opcodeIndex] not in ("QUANTIZE", "DEQUANTIZE")
                  and any(t >= 0 and tensors[t].type == int8 for t in [*op.inputs, *op.outputs])]
        made_float = {int(t) for op in chosen for t in op.outputs if tensors[t].type == int8}
        inserted, constants = {}, {}
        for op in chosen:
            inputs = []
            for t in (_follow(replace, int(t)) if t >= 0 else int(t) for t in op.inputs):
                if t < 0 or tensors[t].type != int8 or t in made_float:
                    inputs.append(t)
                elif t not in producer:                   # an int8 constant
                    constants.setdefault(t, _float_constant(tree, graph, t, schema))
                    inputs.append(constants[t])
                else:                                     # an int8 tensor of the network
                    inserted.setdefault(t, _float_tensor_like(graph, t, schema))
                    inputs.append(inserted[t])
            op.inputs = inputs
        for t in made_float:
            tensors[t].type, tensors[t].quantization = float32, None
        dropped = {id(op) for op in outside if kinds[op.opcodeIndex] == "QUANTIZE"}
        for op in outside:                 # a DEQUANTIZE of what is float32 now
            if kinds[op.opcodeIndex] == "DEQUANTIZE":
                source = _follow(replace, int(op.inputs[0]))
                if tensors[source].type == float32:
                    replace[int(op.outputs[0])] = source
                    dropped.add(id(op))
                else:
                    op.inputs = [source]
        kept = []
        for op in ops:
            if id(op) not in dropped:
                kept.append(op)
            for t in op.outputs:           # a DEQUANTIZE right after the network's tensor
                if int(t) in inserted:
                    new = schema.OperatorT()
                    new.opcodeIndex, new.inputs = dequantize_code, [int(t)]
                    new.outputs = [inserted[int(t)]]
                    kept.append(new)
        for op in kept:
            op.inputs = [_follow(replace, int(t)) if t >= 0 else int(t) for t in op.inputs]
        graph.operators = kept
        graph.outputs = [_follow(replace, int(t)) for t in graph.outputs]
        for signature in tree.signatureDefs or []:
            if signature.subgraphIndex == index:
                for output in signature.outputs:
                    output.tensorIndex = _follow(replace, output.tensorIndex)
        converted += len(chosen) + len(dropped)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree)), converted


def _follow(replace, t):
    while t in replace:
        t = replace[t]
    return t


def _operator_code(tree, schema, name):
    """Index of builtin operator `name` in `tree.operatorCodes`, added if missing."""
    code = getattr(schema.BuiltinOperator, name)
    for i, c in enumerate(tree.operatorCodes):
        if max(c.builtinCode, c.deprecatedBuiltinCode) == code:
            return i
    new = schema.OperatorCodeT()
    new.builtinCode, new.deprecatedBuiltinCode, new.version = code, min(code, 127), 1
    tree.operatorCodes.append(new)
    return len(tree.operatorCodes) - 1


def _float_tensor_like(graph, index, schema):
    """Appends a float32 tensor with tensor `index`'s shape; returns its index."""
    source = graph.tensors[index]
    tensor = schema.TensorT()
    tensor.name = source.name + b"/float"
    tensor.shape, tensor.shapeSignature = source.shape, source.shapeSignature
    tensor.type, tensor.buffer = schema.TensorType.FLOAT32, 0
    graph.tensors.append(tensor)
    return len(graph.tensors) - 1


def _float_constant(tree, graph, index, schema):
    """Appends the dequantized float32 copy of int8 constant `index`; returns its index."""
    source = graph.tensors[index]
    q = source.quantization
    values = np.frombuffer(bytes(tree.buffers[source.buffer].data), np.int8).astype(np.float32)
    if source.shape is not None:
        values = values.reshape([int(d) for d in source.shape])
    scale, zero = np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.float32)
    if scale.size > 1:                               # per-axis
        shape = [1] * values.ndim
        shape[q.quantizedDimension] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    buffer = schema.BufferT()
    buffer.data = ((values - zero) * scale).astype(np.float32).tobytes()
    tree.buffers.append(buffer)
    tensor = _float_tensor_like(graph, index, schema)
    graph.tensors[tensor].buffer = len(tree.buffers) - 1
    return tensor


def tflite_op_names(model):
    """Names of the ops a .tflite (path or bytes) uses, e.g. `{"CONV_2D", ...}`."""
    from ai_edge_litert.interpreter import Interpreter

    kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) \
        else {"model_path": str(model)}
    interpreter = Interpreter(**kwargs)
    return {op["op_name"] for op in interpreter._get_ops_details()}
