import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from portrait_garden.layers import CategoricalAttention, OutputQuantizeConfig


def test_person_logits_route_features_to_person_half():
    features = tf.random.uniform([2, 4, 4, 3], 1.0, 2.0)
    confident_person = tf.fill([2, 4, 4, 1], 30.0)
    out = CategoricalAttention()([features, confident_person]).numpy()
    assert out.shape == (2, 4, 4, 6)
    np.testing.assert_allclose(out[..., :3], 0.0, atol=1e-6)          # background half
    np.testing.assert_allclose(out[..., 3:], features.numpy(), rtol=1e-6)  # person half


def test_category_maps_of_other_levels_are_averaged():
    features = tf.ones([1, 2, 2, 1])
    person, background = tf.fill([1, 2, 2, 1], 30.0), tf.fill([1, 2, 2, 1], -30.0)
    out = CategoricalAttention()([features, person, background]).numpy()
    np.testing.assert_allclose(out, 0.5, atol=1e-6)


def test_coarser_and_finer_logits_are_resized_to_the_level():
    features = tf.ones([1, 4, 4, 1])
    # Finer map (8x8): person on the left half; coarser map (2x2): same.
    fine = np.full([1, 8, 8, 1], -30.0, "float32")
    fine[:, :, :4] = 30.0
    coarse = np.array([[30.0, -30.0], [30.0, -30.0]], "float32").reshape(1, 2, 2, 1)
    out = CategoricalAttention(interpolation="nearest")([features, fine, coarse]).numpy()
    person = out[0, :, :, 1]
    np.testing.assert_allclose(person[:, :2], 1.0, atol=1e-6)
    np.testing.assert_allclose(person[:, 2:], 0.0, atol=1e-6)


def test_config_round_trip():
    layer = CategoricalAttention(interpolation="nearest", name="att")
    clone = CategoricalAttention.from_config(layer.get_config())
    assert clone.interpolation == "nearest"
    assert clone.name == "att"
    assert clone.get_config() == layer.get_config()


def test_save_load_in_a_model(tmp_path):
    f_in = keras.Input((8, 8, 4))
    s_in = keras.Input((16, 16, 1))
    x = CategoricalAttention(name="att")([f_in, s_in])
    model = keras.Model([f_in, s_in], keras.layers.Conv2D(2, 1)(x))
    inputs = [np.random.rand(2, 8, 8, 4).astype("float32"),
              np.random.randn(2, 16, 16, 1).astype("float32")]
    path = str(tmp_path / "att.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored.get_layer("att"), CategoricalAttention)
    np.testing.assert_allclose(restored(inputs).numpy(), model(inputs).numpy(), atol=1e-6)


@pytest.mark.parametrize("inputs, message", [
    ([tf.zeros([1, 4, 4, 2])], "at least one logits"),
    ([tf.zeros([1, 4, 4, 2]), tf.zeros([1, 4, 4, 2])], "1 channel"),
])
def test_bad_inputs_raise_clear_errors(inputs, message):
    with pytest.raises(ValueError, match=message):
        CategoricalAttention()(inputs)


def test_bad_interpolation():
    with pytest.raises(ValueError, match="bilinear"):
        CategoricalAttention(interpolation="cubic")


def test_ships_quantize_config_and_nothing_to_prune():
    layer = CategoricalAttention()
    assert isinstance(layer.quantize_config(), OutputQuantizeConfig)
    assert layer.get_prunable_weights() == []
