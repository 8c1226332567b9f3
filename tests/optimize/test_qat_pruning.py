import numpy as np
import pytest
import tensorflow_model_optimization as tfmot
import tf_keras as keras

import portrait_garden as pg
from portrait_garden.export import TFLiteRunner, convert_to_tflite, tflite_op_names
from portrait_garden.train.trainer import build_training_state
from tests.conftest import compile_for_segmentation, synthetic_batch, tiny_segmenter


def _fit_steps(model, steps=2, callbacks=()):
    images, masks = synthetic_batch(batch=2)
    compile_for_segmentation(model)
    targets = pg.losses.targets_for_outputs(masks, model.output.keys())
    build_training_state(model, images, targets)
    history = model.fit(images, targets, epochs=steps, batch_size=2, verbose=0,
                        callbacks=list(callbacks))
    return images, history.history["loss"]


def _is_pruning_wrapper(layer):
    return type(layer).__name__ == "PruneLowMagnitude"


def _fake_quant_layers(model):
    return [layer for layer in model.layers
            if isinstance(layer, tfmot.quantization.keras.QuantizeWrapperV2)]


@pytest.fixture(scope="module")
def qat_model():
    keras.utils.set_random_seed(0)
    model = pg.optimize.quantize_model(tiny_segmenter())
    images, losses = _fit_steps(model)
    assert all(np.isfinite(losses))
    return model, images


def test_quantize_model_wraps_every_layer_including_custom_ones(qat_model):
    model, _ = qat_model
    wrapped = {layer.layer.__class__.__name__ for layer in _fake_quant_layers(model)}
    assert {"CategoricalAttention", "Rescaling", "Conv2D", "DepthwiseConv2D"} <= wrapped
    # Batch norm is folded into the convolutions, not kept as a layer.
    assert not [layer for layer in model.layers
                if isinstance(layer, keras.layers.BatchNormalization)]


def test_plain_tfmot_annotate_and_apply_path_works():
    model = tiny_segmenter()
    annotated = pg.optimize.annotate_for_quantization(model)
    with pg.optimize.quantize_scope():
        quantized = tfmot.quantization.keras.quantize_apply(annotated)
    assert _fake_quant_layers(quantized)


def test_a_lambda_layer_is_refused_naming_it():
    # tfmot would leave it float (an unquantized island in the int8 file) with a warning.
    inputs = keras.Input((8, 8, 3))
    doubled = keras.layers.Lambda(lambda t: 2.0 * t, name="double")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1)(doubled))
    with pytest.raises(ValueError, match=r"'double' \(Lambda\) cannot be quantized"):
        pg.optimize.quantize_model(model)


def test_plain_quantize_model_without_our_configs_fails_and_says_why():
    # What a user hits when bypassing portrait_garden.optimize.quantize_model.
    with pytest.raises(Exception, match="QuantizeConfig|not supported|supported"):
        tfmot.quantization.keras.quantize_model(tiny_segmenter())


@pytest.mark.slow
def test_qat_model_exports_to_full_integer_tflite(qat_model):
    model, images = qat_model
    data = convert_to_tflite(model, "int8", output_names=["mask"],
                             representative_images=[images[:1], images[1:]])
    ops = tflite_op_names(data)
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in ops)
    out = TFLiteRunner(data)(images[:1])["mask"]
    assert out.shape == (1, 128, 128, 1)
    keras_out = model(images[:1], training=False)["mask"].numpy()
    # Same person/background decision on nearly every pixel.
    assert np.mean((out > 0) == (keras_out > 0)) > 0.95


@pytest.mark.parametrize("name", [
    "qat.h5", pytest.param("qat_savedmodel", marks=pytest.mark.slow)])
def test_qat_model_saves_and_loads(qat_model, tmp_path, name):
    # .h5 (what QAT runs write) or a SavedModel folder: tfmot 0.8.1 QAT models do not
    # reload from the .keras zip format (QuantizeLayer variables are mis-counted); see
    # README. The SavedModel traces every wrapped layer, so it is in the slow set.
    model, images = qat_model
    path = str(tmp_path / name)
    model.save(path)
    restored = pg.load_model(path)
    np.testing.assert_allclose(restored(images)["mask"], model(images)["mask"], atol=1e-5)


@pytest.mark.slow
def test_pruning_trains_strips_and_reaches_the_target_sparsity(tmp_path):
    keras.utils.set_random_seed(0)
    model = pg.optimize.prune_model(tiny_segmenter(), target_sparsity=0.5, begin_step=0,
                                    end_step=2, frequency=1)
    assert any(_is_pruning_wrapper(layer) for layer in model.layers)
    images, losses = _fit_steps(model, steps=3, callbacks=pg.optimize.pruning_callbacks())
    assert all(np.isfinite(losses))
    stripped = pg.optimize.strip_pruning(model)
    assert not any(_is_pruning_wrapper(layer) for layer in stripped.layers)
    assert pg.optimize.sparsity(stripped) == pytest.approx(0.5, abs=0.01)
    # Depthwise kernels are pruned too, and come back as plain DepthwiseConv2D.
    depthwise = [layer for layer in stripped.layers
                 if isinstance(layer, keras.layers.DepthwiseConv2D)
                 and pg.optimize.is_prunable(layer)]
    assert depthwise
    for layer in depthwise:
        assert type(layer) is keras.layers.DepthwiseConv2D
        assert np.mean(layer.depthwise_kernel.numpy() == 0) == pytest.approx(0.5, abs=0.02)
    np.testing.assert_allclose(stripped(images)["mask"], model(images, training=False)["mask"],
                               atol=1e-5)
    data = convert_to_tflite(stripped, "float32", output_names=["mask"])
    assert TFLiteRunner(data)(images[:1])["mask"].shape == (1, 128, 128, 1)


def test_prune_model_rejects_bad_schedules():
    with pytest.raises(ValueError, match="target_sparsity"):
        pg.optimize.prune_model(tiny_segmenter(), target_sparsity=1.0)
    with pytest.raises(ValueError, match="end_step"):
        pg.optimize.prune_model(tiny_segmenter(), begin_step=10, end_step=10)


@pytest.mark.slow
def test_pretrained_layout_quantizes_and_exports_to_full_integer_tflite():
    """The ImageNet-weights layout (per-channel input normalization, explicit symmetric
    padding before stride-2 convs) goes through QAT and int8 conversion like the default."""
    keras.utils.set_random_seed(0)
    model = pg.optimize.quantize_model(tiny_segmenter(
        backbone_padding="symmetric", input_normalization="imagenet"))
    images, losses = _fit_steps(model)
    assert all(np.isfinite(losses))
    data = convert_to_tflite(model, "int8", output_names=["mask"],
                             representative_images=[images[:1], images[1:]])
    ops = tflite_op_names(data)
    assert "PAD" in ops and not any(op.startswith("Flex") or op == "CUSTOM" for op in ops)
    out = TFLiteRunner(data)(images[:1])["mask"]
    keras_out = model(images[:1], training=False)["mask"].numpy()
    assert np.mean((out > 0) == (keras_out > 0)) > 0.95
