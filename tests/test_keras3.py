"""Keras 3 users: load, run, fine-tune and export the shipped networks with `import keras`."""

import os

import numpy as np
import pytest

import portrait_garden as pg
from portrait_garden import keras3 as k3
from portrait_garden.presets import DEFAULT_PRESET, PRESETS, preset_dir

keras = pytest.importorskip("keras")

TINY = {"image_size": (64, 64), "width_multiplier": 0.35, "decoder_filters": 8,
        "detector": True}


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="module")
def canvas(astronaut):
    """The astronaut at the presets' 256x256 network input, float32 [1, 256, 256, 3]."""
    from PIL import Image

    return np.asarray(Image.fromarray(astronaut).resize((256, 256), Image.BILINEAR),
                      np.float32)[None]


def test_keras_is_keras3():
    assert keras.__version__.startswith("3.")


@pytest.mark.parametrize("preset", PRESETS)
def test_shipped_keras3_file_loads_with_keras_and_matches_tf_keras(preset, canvas):
    folder = preset_dir(preset)
    model3 = keras.models.load_model(os.path.join(folder, k3.KERAS3_MODEL))
    model2 = pg.load_model(os.path.join(folder, "model.keras"))
    assert isinstance(model3, k3.PortraitSegmenter) and isinstance(model3, keras.Model)
    assert model3.get_config() == model2.get_config()
    out3, out2 = model3.predict(canvas, verbose=0), model2.predict(canvas, verbose=0)
    assert set(out3) == set(out2) >= {"mask", "center_heatmap", "box_size"}
    prob3, prob2 = (1 / (1 + np.exp(-o["mask"])) for o in (out3, out2))
    assert (prob2 > 0.5).mean() > 0.1           # the astronaut is found
    print(preset, "max |prob3 - prob2|", np.abs(prob3 - prob2).max(),
          "max |logit3 - logit2|", max(np.abs(out3[k] - out2[k]).max() for k in out2))
    # Float32 reassociation between the two Keras backends: measured 2.7e-5 at most.
    np.testing.assert_allclose(prob3, prob2, atol=5e-5)
    for key in out2:    # logits reach |x| ~ 20; measured up to 1.2e-4 apart (5-stage default)
        np.testing.assert_allclose(out3[key], out2[key], rtol=1e-5, atol=3e-4, err_msg=key)


def test_pg_load_model_picks_the_keras_by_the_file():
    folder = preset_dir(DEFAULT_PRESET)
    assert isinstance(pg.load_model(os.path.join(folder, k3.KERAS3_MODEL)),
                      k3.PortraitSegmenter)
    model2 = pg.load_model(os.path.join(folder, "model.keras"))
    assert isinstance(model2, pg.PortraitSegmenter)
    assert not isinstance(model2, keras.Model)


def test_tf_keras_file_also_loads_in_keras3(canvas):
    """Same registered names and config: Keras 3 reads the tf_keras file too."""
    folder = preset_dir("portrait_instance_mbv2_256")
    model = keras.models.load_model(os.path.join(folder, "model.keras"))
    assert isinstance(model, k3.PortraitSegmenter)
    reference = pg.load_model(os.path.join(folder, "model.keras"))
    np.testing.assert_allclose(model.predict(canvas, verbose=0)["mask"],
                               reference.predict(canvas, verbose=0)["mask"], atol=1e-4)


def test_conversion_round_trip_keeps_every_weight():
    model3 = k3.PortraitSegmenter(**TINY)
    back = k3.to_tf_keras(model3)
    assert isinstance(back, pg.PortraitSegmenter)
    for layer in model3.layers:
        for a, b in zip(layer.get_weights(), back.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    again = k3.from_tf_keras(back)
    assert [w.shape for w in again.weights] == [w.shape for w in model3.weights]


def test_keras3_losses_equal_the_tf_keras_losses():
    rng = np.random.default_rng(0)
    mask = (rng.random((2, 32, 32, 1)) > 0.5).astype("float32")
    mask[0, :4] = -1.0          # ignored pixels
    logits = rng.normal(size=(2, 32, 32, 1)).astype("float32")
    heat = rng.random((2, 8, 8, 1)).astype("float32")
    heat[0, 3, 3] = 1.0
    outputs = ["mask", "side_p5", "boundary", "center_heatmap", "box_size"]
    losses2, weights2 = pg.losses.build_losses(outputs, boundary_width=2)
    losses3, weights3 = k3.build_losses(outputs, boundary_width=2)
    assert weights3 == weights2
    cases = {"mask": (mask, logits), "side_p5": (mask, logits), "boundary": (mask, logits),
             "center_heatmap": (heat, rng.normal(size=heat.shape).astype("float32")),
             "box_size": (rng.random((2, 8, 8, 3)).astype("float32"),
                          rng.random((2, 8, 8, 2)).astype("float32"))}
    for key, (y_true, y_pred) in cases.items():
        assert isinstance(losses3[key], keras.losses.Loss)
        np.testing.assert_allclose(float(losses3[key](y_true, y_pred)),
                                   float(losses2[key](y_true, y_pred)), rtol=1e-6, err_msg=key)
    assert losses3["boundary"].width == 2


@pytest.mark.slow
def test_fine_tune_in_keras3_lowers_the_loss_and_exports(tmp_path, astronaut):
    """compile/fit with the Keras 3 losses, save, reload, then the package's exporter
    takes the Keras 3 model (converted to tf_keras by layer name)."""
    from PIL import Image

    from portrait_garden.export import export_model
    from portrait_garden.export.tflite import TFLiteRunner

    keras.utils.set_random_seed(0)
    model = k3.PortraitSegmenter(**{**TINY, "image_size": (128, 128)})
    losses, weights = k3.build_losses(model.output.keys())
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=losses, loss_weights=weights)
    image = np.asarray(Image.fromarray(astronaut).resize((128, 128)), np.float32)[None]
    mask = np.zeros((1, 128, 128, 1), np.float32)
    mask[:, 16:, 32:96] = 1.0
    heat = np.zeros((1, 32, 32, 1), np.float32)
    heat[0, 18, 16] = 1.0
    size = np.zeros((1, 32, 32, 3), np.float32)
    size[0, 18, 16] = (3.0, 2.0, 1.0)
    targets = {k: mask for k in model.output if k not in ("center_heatmap", "box_size")}
    targets.update(center_heatmap=heat, box_size=size)
    history = model.fit(image, targets, epochs=12, batch_size=1, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.8 * loss[0], loss

    path = str(tmp_path / "fine_tuned.keras")
    model.save(path)
    reloaded = pg.load_model(path)
    assert isinstance(reloaded, k3.PortraitSegmenter)
    paths = export_model(reloaded, str(tmp_path / "export"), quantizations=("float32",))
    network = TFLiteRunner(paths["network_float32"])(image)
    expected = model.predict(image, verbose=0)
    for key in ("mask", "center_heatmap", "box_size"):
        np.testing.assert_allclose(network[key], expected[key], atol=1e-3, err_msg=key)
    from ai_edge_litert.interpreter import Interpreter

    pipeline = Interpreter(model_path=paths["float32"]).get_signature_runner("serving_default")
    result = pipeline(image=astronaut[None])
    assert result["instance_labels"].shape == astronaut.shape[:2]


def test_whole_pipeline_runs_in_keras3_through_tfsmlayer(astronaut):
    """The SavedModel (network + detector decoding + superpixels + affinity) as a
    Keras 3 layer: instances included."""
    saved = os.path.join(preset_dir(DEFAULT_PRESET), "saved_model")
    layer = keras.layers.TFSMLayer(saved, call_endpoint="serving_default")
    out = layer(astronaut[None])
    assert int(out["num_instances"]) == 1
    labels = np.asarray(out["instance_labels"])
    assert labels.shape == astronaut.shape[:2]
    assert 0.1 < (labels == 1).mean() < 0.9


def test_keras3_refuses_h5_and_savedmodel_with_the_loader_to_use(tmp_path):
    saved = os.path.join(preset_dir(DEFAULT_PRESET), "saved_model")
    with pytest.raises(ValueError, match=r"not a \.keras archive.*TFSMLayer"):
        k3.load_model(saved)
    h5 = tmp_path / "qat.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError, match=r"portrait_garden.load_model\(path\)"):
        k3.load_model(h5)
    with pytest.raises(ValueError, match="does not load ImageNet weights itself"):
        k3.PortraitSegmenter(backbone_weights="imagenet", **TINY)
    with pytest.raises(TypeError, match="takes a Keras 3"):
        k3.to_tf_keras(pg.PortraitSegmenter(**TINY))
