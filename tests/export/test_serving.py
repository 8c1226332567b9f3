import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

import portrait_garden as pg
from portrait_garden.models import InstanceSegmenter, ServingConfig, check_photo
from portrait_garden.models.instance_segmenter import instances_from_outputs
from tests.conftest import randomize_batchnorm


@pytest.fixture(scope="module")
def instance_model():
    return randomize_batchnorm(pg.PortraitSegmenter(
        image_size=(128, 128), width_multiplier=0.35, decoder_filters=16, detector=True))


@pytest.fixture(scope="module")
def segmenter(instance_model):
    # A low threshold so the untrained detector yields detections to group.
    return InstanceSegmenter(instance_model, ServingConfig(score_threshold=0.05, grid=(8, 8)))


@pytest.mark.parametrize("size", [(333, 517), (128, 128), (97, 61)])
def test_outputs_have_documented_shapes_and_dtypes(segmenter, size):
    photo = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    out = segmenter.segment(photo)
    assert out["instance_labels"].shape == size and out["instance_labels"].dtype == np.int32
    assert out["person_probability"].shape == size
    assert out["boxes"].shape == (16, 4) and out["scores"].shape == (16,)   # default slots
    n = int(out["num_instances"])
    assert out["instance_labels"].min() >= 0 and out["instance_labels"].max() <= n
    assert not out["boxes"][n:].any() and not out["scores"][n:].any()
    assert ((out["boxes"] >= 0) & (out["boxes"] <= 1)).all()
    assert 0.0 <= out["person_probability"].min() and out["person_probability"].max() <= 1.0


def _outputs(size=128, people=(), person_logit=8.0):
    """Synthetic network outputs: people are (y0, x0, y1, x1) boxes in pixels."""
    mask = np.full((1, size, size, 1), -8.0, np.float32)
    heat = np.full((1, size // 4, size // 4, 1), -8.0, np.float32)
    box = np.zeros((1, size // 4, size // 4, 2), np.float32)
    for y0, x0, y1, x1 in people:
        mask[0, y0:y1, x0:x1] = person_logit
        cy, cx = (y0 + y1) // 8, (x0 + x1) // 8
        heat[0, cy, cx] = 4.0
        box[0, cy, cx] = [(y1 - y0) / size, (x1 - x0) / size]
    features = np.ones((1, size // 4, size // 4, 8), np.float32)
    return {"mask": tf.constant(mask), "center_heatmap": tf.constant(heat),
            "box_size": tf.constant(box), "features": tf.constant(features)}


def _run(people):
    canvas = tf.constant(np.random.default_rng(1).uniform(0, 255, (1, 128, 128, 3)),
                         tf.float32)
    labels, boxes, scores, num, _ = instances_from_outputs(
        _outputs(people=people), canvas, ServingConfig(grid=(8, 8)))
    return labels.numpy(), boxes.numpy(), int(num)


def test_no_person_gives_zero_instances():
    labels, boxes, num = _run([])
    assert num == 0 and not labels.any() and not boxes.any()


def test_one_person_gives_exactly_one_instance():
    labels, boxes, num = _run([(20, 30, 120, 90)])
    assert num == 1 and set(np.unique(labels)) == {0, 1}
    assert (labels[20:120, 30:90] == 1).mean() > 0.99
    np.testing.assert_allclose(boxes[0], [20 / 128, 30 / 128, 120 / 128, 90 / 128], atol=0.02)


def test_two_people_masks_never_overlap_and_cover_the_person_pixels():
    labels, _, num = _run([(20, 10, 120, 70), (30, 60, 128, 120)])
    assert num == 2 and set(np.unique(labels)) == {0, 1, 2}
    person = np.zeros((128, 128), bool)
    person[20:120, 10:70] = True
    person[30:128, 60:120] = True
    assert ((labels > 0) == person).mean() > 0.99   # one label per pixel: no overlap


@pytest.mark.parametrize("photo, message", [
    (np.zeros((32, 32, 3), np.float32), "dtype uint8"),
    (np.zeros((32, 32), np.uint8), r"grayscale image: stack it to RGB"),
    (np.zeros((2, 32, 32, 3), np.uint8), r"batch of 2.*loop over the batch"),
    (np.zeros((32,), np.uint8), r"shape \[H, W, 3\]; got shape \(32,\)"),
    (np.zeros((32, 32, 4), np.uint8), "3 channels"),
    (np.zeros((0, 32, 3), np.uint8), "empty"),
])
def test_bad_photos_raise_clear_errors(photo, message):
    with pytest.raises(ValueError, match=message):
        check_photo(photo)


def test_grid_too_fine_for_the_network_size_is_a_clear_error():
    model = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8,
                                 detector=True)
    with pytest.raises(ValueError, match=r"cells of \[1, 1\] pixels.*at least 128 pixels"):
        InstanceSegmenter(model)
    assert InstanceSegmenter(model, ServingConfig(grid=(8, 8))).size == (64, 64)


def test_model_without_detector_is_refused():
    model = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8)
    with pytest.raises(ValueError, match="detector=True"):
        InstanceSegmenter(model)


def test_network_without_a_features_output_is_refused_with_the_fix():
    model = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8,
                                 detector=True)
    old = keras.Model(model.input, {k: v for k, v in model.output.items() if k != "features"})
    with pytest.raises(ValueError, match="no 'features' output.*init_from_saved"):
        InstanceSegmenter(old, ServingConfig(grid=(8, 8)))



@pytest.mark.parametrize("taps", [1, 2.5, True])
def test_bad_resize_taps_is_a_clear_error(taps):
    model = pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=0.35, decoder_filters=8,
                                 detector=True)
    with pytest.raises(ValueError, match="resize_taps must be an int >= 2"):
        InstanceSegmenter(model, ServingConfig(resize_taps=taps))


@pytest.mark.parametrize("settings, message", [
    ({"refine_radius": -1}, "refine_radius must be an int >= 0"),
    ({"refine_radius": 2.5}, "refine_radius must be an int >= 0"),
    ({"refine_eps": 0.0}, "refine_eps must be > 0"),
    ({"refine_radius": 1, "refine_cell": 3}, r"refine_cell must be an int >= 1 dividing the "
                                             r"network size \(128, 128\), got 3"),
])
def test_bad_refinement_settings_are_clear_errors(settings, message):
    model = pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=0.35, decoder_filters=8,
                                 detector=True)
    with pytest.raises(ValueError, match=message):
        InstanceSegmenter(model, ServingConfig(**settings))

