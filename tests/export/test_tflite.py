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
