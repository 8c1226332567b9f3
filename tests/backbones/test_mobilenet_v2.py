import pytest
import tf_keras as keras

from portrait_garden.backbones import make_divisible, mobilenet_v2_features


@pytest.mark.parametrize("alpha, channels", [
    (1.0, {"P2": 24, "P3": 32, "P4": 96, "P5": 320}),
    (0.5, {"P2": 16, "P3": 16, "P4": 48, "P5": 160}),
])
def test_pyramid_strides_and_channels(alpha, channels):
    features = mobilenet_v2_features(keras.Input((256, 192, 3)), alpha)
    strides = {"P2": 4, "P3": 8, "P4": 16, "P5": 32}
    for level, tensor in features.items():
        assert tensor.shape[1:] == (256 // strides[level], 192 // strides[level],
                                    channels[level])


def test_make_divisible():
    assert make_divisible(32 * 0.5) == 16
    assert make_divisible(24 * 0.35) == 8
    assert make_divisible(96 * 0.75) == 72


def test_rejects_non_positive_width():
    with pytest.raises(ValueError, match="width_multiplier"):
        mobilenet_v2_features(keras.Input((64, 64, 3)), 0.0)
