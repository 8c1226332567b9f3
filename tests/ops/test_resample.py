"""The letterbox (photo -> network canvas) and its undo (canvas outputs -> photo)."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from portrait_garden.ops.resample import (
    DEFAULT_RESIZE_TAPS,
    guided_coefficients,
    letterbox,
    undo_letterbox,
)


@pytest.mark.parametrize("photo_size, window", [((333, 517), (21, 0, 86, 128)),
                                                ((700, 90), (0, 48, 128, 16)),
                                                ((128, 128), (0, 0, 128, 128))])
def test_undo_letterbox_matches_crop_then_resize(photo_size, window):
    # The photo-resolution outputs are GATHERs; they must equal cropping the letterbox
    # window and resizing it (bilinear probability, nearest labels).
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


def _weighted_box_mean(x, weight, r):
    """Mean of x over the (2r+1)^2 box around each cell, weighted, inside the array (loops)."""
    h, w = x.shape[:2]
    out = np.zeros_like(x)
    x = np.where(weight[..., None] > 0, x, 0.0)     # cells outside the window count nowhere
    for y in range(h):
        for x0 in range(w):
            box = (slice(max(0, y - r), y + r + 1), slice(max(0, x0 - r), x0 + r + 1))
            total = weight[box].sum()
            if total > 0:
                out[y, x0] = (x[box] * weight[box][..., None]).sum((0, 1)) / total
    return out


def _refine(labels, photo_size, window, prob, canvas, photo, radius=2, eps=1e-3, scale=4):
    coefficients = guided_coefficients(tf.constant(prob), tf.constant(canvas[None]),
                                       tuple(tf.constant(v) for v in window), radius, eps,
                                       scale)
    return undo_letterbox(tf.constant(labels), tf.zeros([8, 4]), tf.zeros([8]),
                          tf.constant(0), tf.constant(prob), tuple(tf.constant(v) for v in window),
                          tf.constant(photo_size), threshold=0.5,
                          refine=(coefficients, tf.constant(photo[None])))


def _bilinear_from_cells(cells, n_out, offset, n_in, s):
    """Sample positions of output pixels between cell centres (written out)."""
    centre = offset + (np.arange(n_out) + 0.5) * n_in / n_out
    pos = np.clip(centre / s - 0.5, 0, cells - 1)
    lower = np.floor(pos).astype(int)
    return lower, np.minimum(lower + 1, cells - 1), pos - lower


@pytest.mark.parametrize("scale", [1, 4])
def test_guided_refinement_matches_the_guided_filter_written_out(scale):
    """Average the canvas and the probability over cells, weight each cell by its share of
    the letterbox window, fit p ~ a * grey + b in each box of cells (numpy, loops),
    average a and b over the boxes, interpolate them to the photo between cell centres
    and apply them to the photo's grey: the op must give that."""
    rng = np.random.default_rng(1)
    window, photo_size, r, eps = (6, 0, 50, 64), (90, 120), 2, 1e-3
    oy, ox, nh, nw = window
    canvas = rng.uniform(0, 255, (64, 64, 3)).astype(np.float32)
    canvas[:oy], canvas[oy + nh:] = 0.0, 0.0                      # the letterbox padding
    prob = rng.uniform(0, 1, (64, 64)).astype(np.float32)
    photo = rng.integers(0, 256, (*photo_size, 3), dtype=np.uint8)
    out = _refine(np.ones((64, 64), np.int32), photo_size, window, prob, canvas, photo, r, eps,
                  scale)

    n = 64 // scale
    inside = np.zeros((64, 64))
    inside[oy:oy + nh, ox:ox + nw] = 1

    def cell(x):
        return x.reshape(n, scale, n, scale, *x.shape[2:]).mean((1, 3))

    share = cell(inside)
    grey = np.where(share > 0, cell(canvas).mean(-1) / 255.0 / np.maximum(share, 1e-9), 0)
    p = cell(prob)
    stats = _weighted_box_mean(np.stack([grey, p, grey * p, grey * grey], -1), share, r)
    mean_i, mean_p, corr_ip, corr_ii = np.moveaxis(stats, -1, 0)
    a = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i ** 2 + eps)
    b = mean_p - a * mean_i
    a_b = _weighted_box_mean(np.stack([a, b], -1), share, r)
    y0, y1, fy = _bilinear_from_cells(n, photo_size[0], oy, nh, scale)
    x0, x1, fx = _bilinear_from_cells(n, photo_size[1], ox, nw, scale)
    cols = a_b[:, x0] + (a_b[:, x1] - a_b[:, x0]) * fx[None, :, None]
    a_b = cols[y0] + (cols[y1] - cols[y0]) * fy[:, None, None]
    expected = np.clip(a_b[..., 0] * photo.mean(-1) / 255.0 + a_b[..., 1], 0, 1)
    np.testing.assert_allclose(out["person_probability"].numpy(), expected, atol=2e-4)
    clear = np.abs(expected - 0.5) > 1e-3         # float32 vs float64 right at the threshold
    np.testing.assert_array_equal((out["instance_labels"].numpy() > 0)[clear],
                                  (expected > 0.5)[clear])


@pytest.mark.parametrize("centre", [64.0, 67.0])
def test_guided_refinement_puts_the_outline_on_the_photos_edge(centre):
    """A person brighter than the background, ending at photo column 262; the network's
    probability is a soft ramp centred 6 photo pixels early (canvas column 64) or late
    (67). Bilinear upsampling keeps the network's outline; the guided filter moves it to
    the photo's edge."""
    size, scale = 128, 4
    photo = np.full((size * scale, size * scale, 3), 40, np.uint8)
    photo[:, :262] = 200
    canvas = photo.reshape(size, scale, size, scale, 3).mean((1, 3)).astype(np.float32)
    xx = np.arange(size, dtype=np.float32)[None, :].repeat(size, 0)
    prob = (1.0 / (1.0 + np.exp((xx + 0.5 - centre) / 1.5))).astype(np.float32)
    window = (0, 0, size, size)
    photo_size = (size * scale, size * scale)
    refined = _refine(np.ones((size, size), np.int32), photo_size, window, prob, canvas, photo,
                      radius=4)["person_probability"].numpy()
    plain = undo_letterbox(tf.ones((size, size), tf.int32), tf.zeros([8, 4]), tf.zeros([8]),
                           tf.constant(0), tf.constant(prob),
                           tuple(tf.constant(v) for v in window),
                           tf.constant(photo_size))["person_probability"].numpy()
    def edge(p):                                     # person columns, the same on every row
        columns = np.sum(p > 0.5, axis=1)
        assert (columns == columns[0]).all()
        return int(columns[0])

    assert edge(plain) == int(centre * scale)
    assert edge(refined) == 262
    # Away from the edge the refinement leaves the decision alone.
    assert (refined[:, :230] > 0.5).all() and (refined[:, 300:] < 0.5).all()


def _padded(photo, size):
    """The photo zero-padded to the aspect ratio of `size`, centred, as the letterbox
    defines it."""
    h, w = photo.shape[:2]
    scale = min(size[0] / h, size[1] / w)
    ph, pw = max(round(size[0] / scale), h), max(round(size[1] / scale), w)
    top, left = (ph - h) // 2, (pw - w) // 2
    padded = np.zeros((ph, pw, 3), np.uint8)
    padded[top:top + h, left:left + w] = photo
    return padded


def _pil_resize(image, size):
    """The training readers' resize: PIL's antialiased bilinear."""
    return np.asarray(Image.fromarray(image).resize(size[::-1], Image.BILINEAR), np.float32)


def _mosaic(height, width):
    """A photo at native resolution (no upscaling): skimage's photos tiled, so a
    7.5x reduction has real fine detail to alias."""
    from skimage import data

    tiles = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(),
             np.stack([data.brick()] * 3, -1), np.stack([data.grass()] * 3, -1)]
    out = np.zeros((height, width, 3), np.uint8)
    i = 0
    for y in range(0, height, 300):
        for x in range(0, width, 300):
            out[y:y + 300, x:x + 300] = tiles[i % len(tiles)][:300, :300][:height - y, :width - x]
            i += 1
    return out


@pytest.mark.parametrize("photo_size", [(333, 517), (700, 90), (256, 256), (64, 64), (1, 1)])
def test_letterbox_equals_pad_then_antialiased_resize(photo_size):
    # With taps covering the filter's footprint (reductions up to 8x with 16 taps),
    # the letterbox equals zero-padding the photo to the network's aspect ratio and
    # PIL's antialiased bilinear resize (PIL rounds to uint8: 0.5, plus its fixed
    # point); its window says where the photo landed.
    photo = np.random.default_rng(0).integers(0, 256, (*photo_size, 3), dtype=np.uint8)
    canvas, window = letterbox(tf.constant(photo[None]), (128, 128), taps=16)
    padded = _padded(photo, (128, 128))
    assert canvas.shape == (1, 128, 128, 3)
    np.testing.assert_allclose(canvas.numpy()[0], _pil_resize(padded, (128, 128)), atol=1.0)
    h, w = photo_size
    oy, ox, nh, nw = (int(v) for v in window)
    assert 0 <= oy and 0 <= ox and oy + nh <= 128 and ox + nw <= 128
    assert abs(nh - h * 128 / padded.shape[0]) <= 1 and abs(nw - w * 128 / padded.shape[1]) <= 1
    # Outside the window the canvas is padding (zeros), up to the one blended pixel.
    assert not canvas.numpy()[0, :max(oy - 1, 0)].any()
    assert not canvas.numpy()[0, :, :max(ox - 1, 0)].any()


def test_letterbox_upscaling_is_plain_bilinear():
    photo = np.random.default_rng(1).integers(0, 256, (40, 64, 3), dtype=np.uint8)
    canvas, _ = letterbox(tf.constant(photo[None]), (128, 128))
    expected = tf.image.resize(_padded(photo, (128, 128))[None].astype(np.float32), (128, 128))
    np.testing.assert_allclose(canvas.numpy(), expected.numpy(), atol=1e-3)


@pytest.mark.parametrize("photo_size", [(1920, 1080), (1080, 1920)])
def test_letterbox_parity_with_the_training_resize_at_1920_px(photo_size):
    """A 1920-pixel photo reduced 7.5x into 256: the network must see what the
    training readers' antialiased resize gives, not 2-tap aliasing. Tolerances
    (mean absolute difference in grey levels against PIL, measured on this photo):
    16 taps 0.15 (exact filter), the default 4 taps 1.85, plain 2-tap bilinear 5.7."""
    photo = _mosaic(*photo_size)
    reference = _pil_resize(_padded(photo, (256, 256)), (256, 256))
    plain = tf.image.resize(_padded(photo, (256, 256))[None].astype(np.float32), (256, 256))
    plain_error = np.abs(plain.numpy()[0] - reference).mean()
    errors = {taps: np.abs(letterbox(tf.constant(photo[None]), (256, 256), taps)[0].numpy()[0]
                           - reference).mean() for taps in (DEFAULT_RESIZE_TAPS, 16)}
    assert plain_error > 4.0
    assert errors[16] < 0.3
    assert errors[DEFAULT_RESIZE_TAPS] < 2.5 and errors[DEFAULT_RESIZE_TAPS] < plain_error / 2.5


def test_letterbox_refuses_fewer_than_two_taps():
    with pytest.raises(ValueError, match="at least 2 taps"):
        letterbox(tf.zeros([1, 8, 8, 3], tf.uint8), (64, 64), taps=1)
