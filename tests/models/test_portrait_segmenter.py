import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import portrait_garden as pg
from portrait_garden.models import count_flops, model_summary
from portrait_garden.train.trainer import build_training_state
from tests.conftest import (
    compile_for_segmentation,
    max_abs_diff,
    randomize_batchnorm,
    synthetic_batch,
    tiny_segmenter,
)

ALL_OUTPUTS = {"mask", "side_p5", "side_p4", "side_p3", "boundary"}


@pytest.mark.parametrize("size", [(128, 128), (224, 224), (256, 256), (256, 192)])
def test_every_output_is_logits_at_input_resolution(size):
    model = tiny_segmenter(size)
    outputs = model(np.zeros((2, *size, 3), "float32"))
    assert set(outputs) == ALL_OUTPUTS
    for name, tensor in outputs.items():
        assert tensor.shape == (2, *size, 1), name
        assert tensor.dtype == tf.float32


def test_size_budgets_of_the_issue():
    full = model_summary(pg.PortraitSegmenter(image_size=(256, 256), width_multiplier=1.0))
    assert full["params"] <= 2_500_000
    assert full["flops"] <= 1.0e9
    half = model_summary(pg.PortraitSegmenter(image_size=(256, 256), width_multiplier=0.5))
    assert half["params"] <= 800_000
    assert half["params"] < full["params"] and half["flops"] < full["flops"]


def test_flop_counter_on_a_hand_computed_model():
    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3, padding="same")(x)           # 8*8*9*3*4 = 6912 MACs
    y = keras.layers.DepthwiseConv2D(3, padding="same")(y)     # 8*8*9*4 = 2304 MACs
    y = keras.layers.Dense(5)(keras.layers.Flatten()(y))       # 256*5 = 1280 MACs
    assert count_flops(keras.Model(x, y)) == 2 * (6912 + 2304 + 1280)


@pytest.mark.parametrize("switches, present, absent", [
    (dict(categorical_attention=False), {"side_p5", "boundary"}, {"attention_p5"}),
    (dict(boundary_enhancement=False), {"side_p5", "attention_p4"}, {"boundary",
                                                                     "boundary_logits"}),
    (dict(deep_supervision=False, categorical_attention=False), {"boundary"},
     {"side_p5", "attention_p3"}),
    (dict(deep_supervision=False, categorical_attention=False, boundary_enhancement=False),
     {"boundary_skip_fuse_pw_conv"}, {"side_p3", "boundary", "attention_p3"}),
])
def test_ablation_switches_change_the_graph(switches, present, absent):
    full = tiny_segmenter()
    model = tiny_segmenter(**switches)
    names = {layer.name for layer in model.layers} | set(model.output)
    assert present <= names
    assert not absent & names
    assert set(model.output) <= ALL_OUTPUTS
    assert model.count_params() != full.count_params()


def test_attention_without_deep_supervision_is_refused():
    with pytest.raises(ValueError, match="deep_supervision"):
        tiny_segmenter(deep_supervision=False, categorical_attention=True)


@pytest.mark.parametrize("size, message", [
    ((250, 256), "multiples of 32"),
    ((32, 32), ">= 64"),
    ((256, 256, 4), "3 channels"),
    ((256,), "height, width"),
    ((256.0, 256.0), "integers"),
])
def test_unsupported_sizes_raise_clear_errors(size, message):
    with pytest.raises(ValueError, match=message):
        pg.PortraitSegmenter(image_size=size, **{"width_multiplier": 0.35})


def test_wrong_channel_count_at_call_time_is_a_value_error(tiny_model):
    with pytest.raises(ValueError, match=r"128, 128, 3"):
        tiny_model(np.zeros((1, 128, 128, 4), "float32"))


def test_config_round_trip_rebuilds_the_same_network(tiny_model, tiny_images):
    clone = pg.PortraitSegmenter.from_config(tiny_model.get_config())
    assert clone.get_config() == tiny_model.get_config()
    clone.set_weights(tiny_model.get_weights())
    assert max_abs_diff(clone(tiny_images), tiny_model(tiny_images)) == 0.0


@pytest.mark.parametrize("fmt", ["keras", pytest.param("savedmodel", marks=pytest.mark.slow)])
def test_save_and_load_model_give_identical_outputs(tiny_model, tiny_images, tmp_path, fmt):
    path = str(tmp_path / ("model.keras" if fmt == "keras" else "model"))
    tiny_model.save(path)
    expected = tiny_model(tiny_images)
    ours = pg.load_model(path)
    plain = keras.models.load_model(path)
    assert isinstance(ours, pg.PortraitSegmenter)
    assert ours.get_config() == tiny_model.get_config()
    assert max_abs_diff(ours(tiny_images), expected) <= 1e-6
    assert max_abs_diff(plain(tiny_images), expected) <= 1e-6


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No saved model"):
        pg.load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="not a SavedModel"):
        pg.load_model(tmp_path)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="broken.keras is truncated or not a Keras archive"):
        pg.load_model(broken)


def test_a_few_fit_steps_lower_the_loss():
    keras.utils.set_random_seed(1)
    images, masks = synthetic_batch(batch=4, size=(128, 128))
    model = compile_for_segmentation(tiny_segmenter(), learning_rate=3e-3)
    targets = pg.losses.targets_for_outputs(masks, model.output.keys())
    build_training_state(model, images, targets)
    before = model.evaluate(images, targets, verbose=0)[0]
    history = model.fit(images, targets, epochs=20, batch_size=4, verbose=0).history["loss"]
    # Every variable existed before fit, so the train step was traced once, not twice.
    assert model.train_function.experimental_get_tracing_count() == 1
    after = model.evaluate(images, targets, verbose=0)[0]
    assert history[-1] < 0.7 * history[0], history
    assert after < before, (before, after)  # inference mode (moving BN statistics) too


def test_detector_neck_feeds_the_detector_from_the_deep_levels():
    PortraitSegmenter = pg.PortraitSegmenter
    """`detector_neck` adds the detector's own stride-16 blocks on backbone P4 + P5:
    the heads' outputs change, the person mask does not, and the config round-trips."""
    base = PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8,
                             detector=True)
    neck = PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8,
                             detector=True, detector_neck=2)
    names = {layer.name for layer in neck.layers} - {layer.name for layer in base.layers}
    assert names and all(name.startswith("detector_neck") for name in names)
    randomize_batchnorm(neck)
    for layer in base.layers:
        if layer.weights:
            layer.set_weights(neck.get_layer(layer.name).get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (1, 64, 64, 3)).astype("float32")
    a, b = base(x), neck(x)
    np.testing.assert_allclose(a["mask"].numpy(), b["mask"].numpy(), atol=1e-6)
    assert np.abs(a["center_heatmap"].numpy() - b["center_heatmap"].numpy()).max() > 1e-4
    assert PortraitSegmenter.from_config(neck.get_config()).get_config()["detector_neck"] == 2
    with pytest.raises(ValueError, match="needs detector=True"):
        PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, detector_neck=1)


def test_detector_network_names_its_decoder_features_and_training_skips_them():
    """The instance pipeline reads the stride-4 decoder features from the `features`
    output (no layer-name lookup); losses and targets leave that output alone."""
    from portrait_garden.losses import build_losses, targets_for_outputs
    from portrait_garden.models import serving_network

    model = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35,
                                 decoder_filters=8, detector=True)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    out = model(x)
    assert out["features"].shape == (2, 16, 16, 8)
    served = serving_network(model)(x)
    assert set(served) == {"mask", "center_heatmap", "box_size", "features"}
    np.testing.assert_allclose(served["features"].numpy(), out["features"].numpy(), atol=1e-6)
    losses, _ = build_losses(model.output.keys())
    assert "features" not in losses and {"mask", "center_heatmap"} <= set(losses)
    detector = {"heatmap": tf.zeros([2, 16, 16, 1]), "size": tf.zeros([2, 16, 16, 2]),
                "size_mask": tf.zeros([2, 16, 16, 1])}
    targets = targets_for_outputs(tf.zeros([2, 64, 64, 1]), model.output.keys(), detector)
    assert "features" not in targets and set(targets) == set(losses)
    assert "features" not in pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35,
                                                  decoder_filters=8).output
