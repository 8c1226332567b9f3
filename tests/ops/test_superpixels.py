import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.evaluate.metrics import boundary_recall
from portrait_garden.ops.superpixels import cell_sums, from_cells, slic, to_cells


def _regions_image(seed, size=128, regions=6):
    """Random convex polygons of distinct colours + noise, and their region map."""
    from skimage.draw import polygon

    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), np.float32) + rng.uniform(0, 255, 3)
    truth = np.zeros((size, size), np.int32)
    for r in range(1, regions + 1):
        cy, cx = rng.uniform(10, size - 10, 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        radius = rng.uniform(12, 40)
        rr, cc = polygon(cy + radius * np.sin(angles), cx + radius * np.cos(angles),
                         (size, size))
        image[rr, cc] = rng.uniform(0, 255, 3)
        truth[rr, cc] = r
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.float32), truth


def test_labels_cover_the_grid_and_static_shapes():
    image, _ = _regions_image(0)
    labels, assignment, lab = slic(tf.constant(image), grid=(16, 16))
    assert labels.shape == (128, 128) and labels.dtype == tf.int32
    assert assignment.shape == (256, 64, 9) and lab.shape == (256, 64, 3)
    values = np.unique(labels.numpy())
    assert values.min() >= 0 and values.max() < 256 and len(values) > 200
    np.testing.assert_array_equal(tf.reduce_sum(assignment, -1).numpy(), 1.0)


def test_cell_layout_round_trip_and_sums():
    x = tf.random.uniform([32, 32, 2])
    np.testing.assert_array_equal(from_cells(to_cells(x, 8), (4, 4), 8).numpy(), x.numpy())
    # Every pixel assigned to its own cell (offset index 4): sums are plain cell sums.
    own = tf.one_hot(tf.fill([16, 64], 4), 9)
    sums = cell_sums(to_cells(x, 8), own, (4, 4)).numpy()
    expected = x.numpy().reshape(4, 8, 4, 8, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(sums, expected, rtol=1e-5)


def test_boundary_recall_is_close_to_skimage():
    from skimage.segmentation import slic as sk_slic

    ours, theirs = [], []
    for seed in range(4):
        image, truth = _regions_image(seed)
        labels = slic(tf.constant(image), grid=(16, 16))[0].numpy()
        reference = sk_slic(image.astype(np.uint8), n_segments=256, compactness=10,
                            start_label=0)
        ours.append(boundary_recall(labels, truth, tolerance=2))
        theirs.append(boundary_recall(reference, truth, tolerance=2))
    assert np.mean(ours) >= np.mean(theirs) - 0.05, (ours, theirs)
    assert np.mean(ours) > 0.8


def test_rejects_sizes_not_divisible_into_square_cells():
    with pytest.raises(ValueError, match="square cells"):
        slic(tf.zeros([100, 128, 3]), grid=(16, 16))
