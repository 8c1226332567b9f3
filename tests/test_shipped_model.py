"""The model shipped in saved_models/: loads offline, runs in LiteRT, agrees with its
SavedModel, and the demo writes what the README promises."""

import json
import os

import numpy as np
import pytest

from portrait_garden.presets import DEFAULT_PRESET, PRESETS, preset_dir

MODEL_DIR = preset_dir(DEFAULT_PRESET)
"""The default preset: what `segment` and `demo` use."""

@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()


def test_float_tflite_agrees_with_the_saved_model(astronaut):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from portrait_garden.export.exporter import _converter

    saved_dir = os.path.join(MODEL_DIR, "saved_model")
    expected = tf.saved_model.load(saved_dir).signatures["serving_default"](
        image=tf.constant(astronaut[None]))
    float32 = _converter(saved_dir, "float32", None).convert()
    run = Interpreter(model_content=float32).get_signature_runner("serving_default")
    got = run(image=astronaut[None])
    assert int(expected["num_instances"]) == 1  # the astronaut, once
    assert int(got["num_instances"]) == 1
    np.testing.assert_allclose(got["scores"], expected["scores"].numpy(), atol=1e-4)
    np.testing.assert_allclose(got["boxes"], expected["boxes"].numpy(), atol=1e-4)
    agree = np.mean(got["instance_labels"] == expected["instance_labels"].numpy())
    assert agree >= 0.99, agree


def test_float16_tflite_finds_the_person(astronaut):
    from ai_edge_litert.interpreter import Interpreter

    run = Interpreter(model_path=os.path.join(MODEL_DIR, "model_float16.tflite")) \
        .get_signature_runner("serving_default")
    out = run(image=astronaut[None])
    assert int(out["num_instances"]) >= 1
    assert (out["person_probability"] > 0.5).mean() > 0.2


def test_int8_tflite_finds_the_person_too(astronaut):
    from ai_edge_litert.interpreter import Interpreter

    run = Interpreter(model_path=os.path.join(MODEL_DIR, "model_int8.tflite")) \
        .get_signature_runner("serving_default")
    out = run(image=astronaut[None])
    assert int(out["num_instances"]) >= 1
    assert out["instance_labels"].shape == astronaut.shape[:2]


def test_demo_writes_overlay_masks_and_json(tmp_path):
    from portrait_garden.cli import main

    assert main(["demo", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "astronaut.json").read_text())
    assert record["num_persons"] >= 1
    for name in ("astronaut_overlay.png", "astronaut_person1.png", "astronaut_blur.png"):
        assert (tmp_path / name).exists(), name


def test_model_card_and_config_ship_with_the_model():
    text = open(os.path.join(MODEL_DIR, "MODEL_CARD.md"), encoding="utf-8").read()
    assert "non-commercial" in text.lower()
    assert os.path.exists(os.path.join(MODEL_DIR, "config.yaml"))


def test_shipped_keras_model_is_the_network_inside_the_saved_model(astronaut):
    import tensorflow as tf

    import portrait_garden as pg
    from portrait_garden.models import InstanceSegmenter, ServingConfig

    with open(os.path.join(MODEL_DIR, "export.json"), encoding="utf-8") as f:
        settings = json.load(f)["serving_config"]
    settings["grid"] = tuple(settings["grid"])
    model = pg.load_model(os.path.join(MODEL_DIR, "model.keras"))
    # A photo of the network's size: no resampling, so the letterbox filter (which
    # changed after some shipped exports: resize_taps) plays no part.
    photo = np.ascontiguousarray(astronaut[::2, ::2])
    ours = InstanceSegmenter(model, ServingConfig(**settings)).segment(photo)
    saved = tf.saved_model.load(os.path.join(MODEL_DIR, "saved_model"))
    theirs = saved.signatures["serving_default"](image=tf.constant(photo[None]))
    np.testing.assert_allclose(ours["person_probability"],
                               theirs["person_probability"].numpy(), atol=1e-4)
    assert np.mean(ours["instance_labels"] == theirs["instance_labels"].numpy()) >= 0.99


def test_instance_masks_have_smooth_edges_at_1080p(astronaut):
    """Per-person masks (what blur/replace and the PNGs use) follow the smooth
    photo-resolution probability on a 1080x1920 photo, not the network's blocks."""
    from PIL import Image

    import portrait_garden as pg
    from portrait_garden.evaluate.metrics import edge_agreement
    from portrait_garden.models import InstanceSegmenter

    photo = np.asarray(Image.fromarray(astronaut).resize((1080, 1920), Image.BILINEAR))
    model = pg.load_model(os.path.join(MODEL_DIR, "model.keras"))
    out = InstanceSegmenter(model).segment(photo)
    assert out["instance_labels"].shape == (1920, 1080)
    assert int(out["num_instances"]) >= 1
    assert edge_agreement(out["instance_labels"], out["person_probability"]) >= 0.98


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_loads_with_its_layout_and_finds_the_person(preset, astronaut):
    """Each shipped folder rebuilds with the layout its weights need (ImageNet presets:
    torch padding and ImageNet normalization), its float16 pipeline finds the
    astronaut, and its card states the terms."""
    from ai_edge_litert.interpreter import Interpreter

    import portrait_garden as pg

    folder = preset_dir(preset)
    model = pg.load_model(os.path.join(folder, "model.keras"))
    config = model.get_config()
    assert config["detector"]
    if config["width_multiplier"] == 1.0:
        assert (config["backbone_padding"], config["input_normalization"]) == ("symmetric",
                                                                              "imagenet")
    run = Interpreter(model_path=os.path.join(folder, "model_float16.tflite")) \
        .get_signature_runner("serving_default")
    out = run(image=astronaut[None])
    assert int(out["num_instances"]) >= 1
    assert (out["person_probability"] > 0.5).mean() > 0.2
    text = open(os.path.join(folder, "MODEL_CARD.md"), encoding="utf-8").read()
    assert "non-commercial" in text.lower()


def _real_photos(astronaut, count=8):
    """The astronaut, plus the first multi-person sports photos of ../shared/data when
    it is there (a clean clone without the data checks the astronaut alone)."""
    import glob

    from portrait_garden.segment import read_photo
    from tests.conftest import SHARED_DATA

    paths = sorted(glob.glob(os.path.join(SHARED_DATA, "instances", "pfg_sports", "images",
                                          "*")))[:count]
    return [astronaut] + [read_photo(p) for p in paths]


CLEAR_MARGIN = 0.1
"""A float32 detection this far above the served threshold must survive quantization."""


@pytest.mark.parametrize("quantization, mask_agreement, box_iou", [
    ("float16", 0.99, 0.8), ("int8", 0.94, 0.5)])
def test_quantized_pipelines_keep_the_float32_masks_and_clear_detections(
        astronaut, quantization, mask_agreement, box_iou):
    """float16 / int8 against the float32 SavedModel on real photos: the person mask
    agrees on nearly every pixel, and every float32 detection that is clear of the
    preset's serving threshold (score >= threshold + `CLEAR_MARGIN`) is found again; detections
    near the threshold can flip. The stage-7 default serves 0.15, so detections from 0.25
    count as clear. Its int8 file failed this (a strict xfail) until its post-processing
    stopped being rounded through int8 (`float_post_processing`); over all 70
    pfg_sports photos it still misses two clear detections (scored 0.26 and 0.31; four
    before) and its worst photo's mask agrees on 94.8% (float16: none, 99.8%;
    `results/int8_strip/int8_parity.txt`), and its COCO AP50 stays below float16's on
    the test split (README)."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from portrait_garden.ops.detection import box_iou_matrix

    with open(os.path.join(MODEL_DIR, "export.json"), encoding="utf-8") as f:
        threshold = json.load(f)["serving_config"]["score_threshold"]
    reference = tf.saved_model.load(os.path.join(MODEL_DIR, "saved_model")) \
        .signatures["serving_default"]
    run = Interpreter(model_path=os.path.join(MODEL_DIR, f"model_{quantization}.tflite")) \
        .get_signature_runner("serving_default")
    for photo in _real_photos(astronaut):
        ref = {k: v.numpy() for k, v in reference(image=tf.constant(photo[None])).items()}
        out = run(image=photo[None])
        agree = np.mean((out["person_probability"] > 0.5) == (ref["person_probability"] > 0.5))
        assert agree >= mask_agreement, (photo.shape, agree)
        boxes = out["boxes"][:int(out["num_instances"])]
        clear = ref["boxes"][ref["scores"] >= threshold + CLEAR_MARGIN]
        if len(clear):
            iou = box_iou_matrix(tf.constant(np.concatenate([clear, boxes]))).numpy()
            best = iou[:len(clear), len(clear):].max(axis=1, initial=0.0)
            assert (best >= box_iou).all(), (photo.shape, best)
