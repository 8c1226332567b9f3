import numpy as np
import pytest
import tensorflow as tf

import portrait_garden as pg
from portrait_garden.export import InstanceSegmenter, ServingConfig, check_photo
from portrait_garden.export.serving import instances_from_outputs
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
    assert out["boxes"].shape == (8, 4) and out["scores"].shape == (8,)
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


@pytest.mark.parametrize("photo_size, window", [((333, 517), (21, 0, 86, 128)),
                                                ((700, 90), (0, 48, 128, 16)),
                                                ((128, 128), (0, 0, 128, 128))])
def test_undo_letterbox_matches_crop_then_resize(photo_size, window):
    # The photo-resolution outputs are GATHERs; they must equal cropping the letterbox
    # window and resizing it (bilinear probability, nearest labels).
    from portrait_garden.export.serving import undo_letterbox

    rng = np.random.default_rng(0)
    prob = rng.uniform(0, 1, (128, 128)).astype(np.float32)
    labels = rng.integers(0, 4, (128, 128)).astype(np.int32)
    oy, ox, nh, nw = window
    out = undo_letterbox(tf.constant(labels), tf.zeros([8, 4]), tf.zeros([8]), tf.constant(0),
                         tf.constant(prob), tuple(tf.constant(v) for v in window),
                         tf.constant(photo_size))
    crop = prob[oy:oy + nh, ox:ox + nw, None]
    expected = tf.image.resize(crop, photo_size).numpy()[..., 0]
    np.testing.assert_allclose(out["person_probability"].numpy(), expected, atol=1e-5)
    nearest = tf.image.resize(labels[oy:oy + nh, ox:ox + nw, None], photo_size, "nearest")
    np.testing.assert_array_equal(out["instance_labels"].numpy(), nearest.numpy()[..., 0])


def test_photo_resolution_labels_follow_the_smooth_probability():
    """With `threshold`, a large photo's person pixels are `person_probability > 0.5`
    at photo resolution, so edges are not the network's 8x stair-steps; the owner
    still comes from the nearest network pixel."""
    from portrait_garden.export.serving import undo_letterbox

    yy, xx = np.mgrid[:128, :128]
    # A disc of probability and two owners (left/right halves), defined past its edge.
    prob = 1.0 / (1.0 + np.exp((np.hypot(yy - 64, xx - 64) - 40) / 3.0))
    owner = np.where(xx < 64, 1, 2).astype(np.int32)
    args = (tf.zeros([8, 4]), tf.zeros([8]), tf.constant(2), tf.constant(prob, tf.float32),
            (tf.constant(0), tf.constant(0), tf.constant(128), tf.constant(128)),
            tf.constant([1024, 1024]))
    out = undo_letterbox(tf.constant(owner), *args, threshold=0.5)
    labels, big_prob = out["instance_labels"].numpy(), out["person_probability"].numpy()
    np.testing.assert_array_equal(labels > 0, big_prob > 0.5)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert (labels[:, :500][labels[:, :500] > 0] == 1).all()
    # Without `threshold` (labels already cut at network resolution) the edge is blocky.
    blocky = undo_letterbox(tf.constant(np.where(prob > 0.5, owner, 0)), *args)
    assert np.mean((blocky["instance_labels"].numpy() > 0) != (big_prob > 0.5)) > 0.001


@pytest.mark.parametrize("photo_size", [(333, 517), (700, 90), (256, 256), (64, 64), (1, 1)])
def test_letterbox_equals_pad_then_resize(photo_size):
    # The serving letterbox gathers rows and columns; it must equal zero-padding the
    # photo to the network's aspect ratio and resizing it bilinearly, and its window
    # must say where the photo landed.
    from portrait_garden.export.serving import letterbox

    photo = np.random.default_rng(0).integers(0, 256, (1, *photo_size, 3), dtype=np.uint8)
    canvas, window = letterbox(tf.constant(photo), (128, 128))
    h, w = photo_size
    scale = min(128 / h, 128 / w)
    ph, pw = max(round(128 / scale), h), max(round(128 / scale), w)
    top, left = (ph - h) // 2, (pw - w) // 2
    padded = np.zeros((1, ph, pw, 3), np.float32)
    padded[0, top:top + h, left:left + w] = photo[0]
    expected = tf.image.resize(padded, (128, 128)).numpy()
    assert canvas.shape == (1, 128, 128, 3)
    np.testing.assert_allclose(canvas.numpy(), expected, atol=1e-3)
    oy, ox, nh, nw = (int(v) for v in window)
    assert 0 <= oy and 0 <= ox and oy + nh <= 128 and ox + nw <= 128
    assert abs(nh - h * 128 / ph) <= 1 and abs(nw - w * 128 / pw) <= 1
    # Outside the window the canvas is padding (zeros), up to the one blended pixel.
    assert not canvas.numpy()[0, :max(oy - 1, 0)].any()
    assert not canvas.numpy()[0, :, :max(ox - 1, 0)].any()
