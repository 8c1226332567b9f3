import numpy as np
import pytest

from portrait_garden.export import TFLiteRunner, convert_to_tflite, tflite_op_names, write_tflite
from tests.conftest import max_abs_diff


@pytest.fixture(scope="module")
def float_tflite(tiny_model):
    return convert_to_tflite(tiny_model, "float32")


def test_float_tflite_matches_keras_within_1e4(tiny_model, tiny_images, float_tflite):
    runner = TFLiteRunner(float_tflite)
    for image in tiny_images:
        image = image[None]
        expected = {k: v.numpy() for k, v in tiny_model(image, training=False).items()}
        got = runner(image)
        assert sorted(got) == sorted(expected)
        assert max_abs_diff(got, expected) <= 1e-4
        assert np.abs(expected["mask"]).max() > 1e-2  # not a trivially-zero comparison


def test_only_builtin_ops(float_tflite):
    ops = tflite_op_names(float_tflite)
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "RESIZE_BILINEAR"} <= ops
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in ops)


@pytest.mark.parametrize("quantization", ["float16", "dynamic"])
def test_reduced_precision_conversions_run(tiny_model, tiny_images, quantization, float_tflite):
    data = convert_to_tflite(tiny_model, quantization, output_names=["mask"])
    assert len(data) < 0.7 * len(float_tflite)
    out = TFLiteRunner(data)(tiny_images[:1])
    assert set(out) == {"mask"} and out["mask"].shape == (1, 128, 128, 1)


def test_bad_conversion_arguments(tiny_model):
    with pytest.raises(ValueError, match="quantization must be one of"):
        convert_to_tflite(tiny_model, "int4")
    with pytest.raises(ValueError, match="representative_images"):
        convert_to_tflite(tiny_model, "int8")
    with pytest.raises(ValueError, match="no outputs"):
        convert_to_tflite(tiny_model, output_names=["nope"])


def test_runner_checks_input_shape_and_path(float_tflite, tmp_path):
    with pytest.raises(ValueError, match="expects input"):
        TFLiteRunner(float_tflite)(np.zeros((1, 64, 64, 3), "float32"))
    with pytest.raises(FileNotFoundError):
        TFLiteRunner(str(tmp_path / "missing.tflite"))


def test_write_tflite_writes_a_loadable_file(tiny_model, tiny_images, tmp_path):
    path = write_tflite(tiny_model, str(tmp_path / "sub" / "m.tflite"), output_names=["mask"])
    assert TFLiteRunner(path, num_threads=2)(tiny_images[:1])["mask"].shape == (1, 128, 128, 1)


def _round_trip_model():
    """A hand-built int8 pipeline: "network" ops are the tensors named `serving_network/`.

    y1 = dequant(reshape(quant(|x|))): a float tensor's round trip through int8 outside
    the network; y2 = dequant(network_add(q2, 0.5)): the int8 network, which stays;
    y3 = dequant(abs_int8(network sum)): int8 arithmetic after the network's output, with
    an output scale of 1.0 where the sum has 0.5. Scales of 0.5 and 1.0 make every
    rounding visible.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    op_codes = []
    for code in ("ABS", "QUANTIZE", "RESHAPE", "DEQUANTIZE", "ADD"):
        op_code = schema.OperatorCodeT()
        op_code.builtinCode = getattr(schema.BuiltinOperator, code)
        op_code.deprecatedBuiltinCode = min(op_code.builtinCode, 127)
        op_code.version = 2 if code == "ABS" else 1
        op_codes.append(op_code)
    buffers = [schema.BufferT(), schema.BufferT(), schema.BufferT()]
    buffers[1].data = np.array([2, 3], np.int32).tobytes()
    buffers[2].data = np.ones(6, np.int8).tobytes()          # 0.5 at scale 0.5

    def tensor(name, shape, dtype, scale=None, buffer=0):
        t = schema.TensorT()
        t.name, t.shape, t.buffer = name, np.array(shape, np.int32), buffer
        t.type = getattr(schema.TensorType, dtype)
        if scale is not None:
            t.quantization = schema.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [scale], [0]
        return t

    def op(code, inputs, outputs):
        o = schema.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, inputs, outputs
        return o

    graph = schema.SubGraphT()
    graph.tensors = [tensor("x", [6], "FLOAT32"), tensor("a", [6], "FLOAT32"),
                     tensor("q", [6], "INT8", 0.5), tensor("shape", [2], "INT32", buffer=1),
                     tensor("r", [2, 3], "INT8", 0.5), tensor("y1", [2, 3], "FLOAT32"),
                     tensor("serving_network/sum", [6], "INT8", 0.5),
                     tensor("y2", [6], "FLOAT32"), tensor("q2", [6], "INT8", 0.5),
                     tensor("after", [6], "INT8", 1.0), tensor("y3", [6], "FLOAT32"),
                     tensor("half", [6], "INT8", 0.5, buffer=2)]
    add = op(4, [8, 11], [6])
    add.builtinOptionsType = schema.BuiltinOptions.AddOptions
    add.builtinOptions = schema.AddOptionsT()
    graph.operators = [op(0, [0], [1]), op(1, [1], [2]), op(2, [2, 3], [4]),
                       op(3, [4], [5]), op(1, [1], [8]), add, op(3, [6], [7]),
                       op(0, [6], [9]), op(3, [9], [10])]
    graph.inputs, graph.outputs = [0], [5, 7, 10]
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = "serving_default", 0

    def tensor_map(name, index):
        m = schema.TensorMapT()
        m.name, m.tensorIndex = name, index
        return m

    signature.inputs = [tensor_map("x", 0)]
    signature.outputs = [tensor_map("y1", 5), tensor_map("y2", 7), tensor_map("y3", 10)]
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, op_codes, [graph]
    model.buffers, model.signatureDefs = buffers, [signature]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def test_float_post_processing_keeps_the_network_int8_and_the_rest_float():
    from ai_edge_litert.interpreter import Interpreter

    from portrait_garden.export.tflite import float_post_processing

    x = np.array([0.3, -1.2, 2.6, 0.74, -0.1, 3.3], np.float32)
    original = _round_trip_model()
    rewritten, changed = float_post_processing(original)
    before = Interpreter(model_content=original).get_signature_runner()(x=x)
    after = Interpreter(model_content=rewritten).get_signature_runner()(x=x)
    rounded = np.round(np.abs(x) / 0.5) * 0.5
    # The round trip of |x| is gone.
    np.testing.assert_allclose(before["y1"], rounded.reshape(2, 3))
    np.testing.assert_array_equal(after["y1"], np.abs(x).reshape(2, 3))
    # The network's int8 ADD keeps its quantization: the same rounded sum as before.
    total = rounded + 0.5
    np.testing.assert_allclose(before["y2"], total)
    np.testing.assert_allclose(after["y2"], before["y2"])
    # The int8 ABS after it runs in float32 on the dequantized sum: no rounding to 1.0.
    assert np.abs(before["y3"] - np.round(total)).max() <= 1.0
    np.testing.assert_array_equal(after["y3"], total)
    assert not np.array_equal(before["y3"], after["y3"])
    ops = [op["op_name"] for op in Interpreter(model_content=rewritten)._get_ops_details()]
    # Dropped: the first QUANTIZE and its DEQUANTIZE, the DEQUANTIZE after ABS; added: one
    # DEQUANTIZE of the network's sum.
    assert sorted(ops) == ["ABS", "ABS", "ADD", "DEQUANTIZE", "DEQUANTIZE", "QUANTIZE",
                           "RESHAPE"], ops
    assert changed == 5       # RESHAPE and ABS now float32; two DEQUANTIZE, one QUANTIZE gone
