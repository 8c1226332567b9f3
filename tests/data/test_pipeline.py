import math

import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.data import (
    IGNORE,
    AugmentConfig,
    DataError,
    Example,
    ExampleStore,
    apply_warp,
    build_dataset,
    centernet_targets,
    composite_example,
    extract_cutouts,
    instance_boxes,
    make_composites,
    read_examples,
    resolve_dataset,
    warp_matrix,
)
from portrait_garden.data.augment import augment_preset, photometric
from portrait_garden.data.composite import person_free_background
from tests.data.conftest import write_portrait_folder


def _marked_image(h=60, w=80):
    """An image whose red channel is 255 exactly on the mask, so alignment is checkable."""
    image = np.zeros((h, w, 3), np.float32)
    labels = np.zeros((h, w), np.uint8)
    labels[10:40, 20:50] = 1
    labels[35:55, 45:70] = 2
    image[..., 0] = np.where(labels > 0, 255.0, 0.0)
    return image, labels


@pytest.mark.parametrize("scale, angle, flip, shift", [
    (1.0, 0.0, False, (0.0, 0.0)),
    (1.3, 0.4, False, (10.0, -5.0)),
    (0.8, -0.5, True, (0.0, 20.0)),
    (1.0, math.pi / 2, True, (-15.0, 0.0)),
])
def test_every_warp_keeps_image_and_mask_aligned(scale, angle, flip, shift):
    image, labels = _marked_image()
    matrix = warp_matrix((60, 80), (64, 64), scale, angle, flip, shift)
    warped, warped_labels = apply_warp(tf.constant(image), tf.constant(labels), matrix, (64, 64))
    red, lab = warped.numpy()[..., 0], warped_labels.numpy()
    inside = lab > 0
    assert inside.sum() > 50
    # Interior of the mask is red, far outside is not (bilinear edges aside).
    assert np.mean(red[inside] > 127) > 0.9
    assert np.mean(red[~inside] < 128) > 0.97


def test_letterbox_fits_the_whole_image():
    image, labels = _marked_image()
    _, lab = apply_warp(tf.constant(image), tf.constant(labels),
                        warp_matrix((60, 80), (60, 60)), (60, 60))
    # 80 wide -> 60 wide: scale 0.75, both persons fully inside.
    assert set(np.unique(lab.numpy())) == {0, 1, 2}
    np.testing.assert_allclose((lab.numpy() > 0).sum(), (labels > 0).sum() * 0.75 ** 2,
                               rtol=0.1)


def test_flip_mirrors():
    image, labels = _marked_image(64, 64)
    _, lab = apply_warp(tf.constant(image), tf.constant(labels),
                        warp_matrix((64, 64), (64, 64), flip=True), (64, 64))
    np.testing.assert_array_equal(lab.numpy(), labels[:, ::-1])


def test_photometric_changes_colour_but_stays_in_range():
    image = tf.fill([32, 32, 3], 128.0)
    out = photometric(image, tf.constant([1, 2], tf.int64), AugmentConfig(
        blur_probability=1.0, noise_probability=1.0)).numpy()
    assert out.min() >= 0 and out.max() <= 255 and np.abs(out - 128).max() > 1


def test_instance_boxes_from_labels():
    labels = np.zeros((10, 20), np.uint8)
    labels[2:5, 4:10] = 1
    labels[6:10, 0:3] = 3
    boxes, valid = instance_boxes(tf.constant(labels), max_instances=4)
    assert valid.numpy().tolist() == [True, False, True, False]
    np.testing.assert_allclose(boxes.numpy()[0], [0.2, 0.2, 0.5, 0.5])
    np.testing.assert_allclose(boxes.numpy()[2], [0.6, 0.0, 1.0, 0.15])
    assert not boxes.numpy()[1].any()


def test_centernet_targets_peak_at_box_centres():
    boxes = tf.constant([[0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]])
    t = centernet_targets(boxes, tf.constant([True, True]), (64, 64), stride=4)
    heat = t["heatmap"].numpy()[..., 0]
    assert heat.shape == (16, 16)
    assert heat[4, 4] == pytest.approx(1.0) and heat[12, 12] == pytest.approx(1.0)
    assert t["size_mask"].numpy().sum() == 2
    np.testing.assert_allclose(t["size"].numpy()[4, 4], [0.5, 0.5])


def _store(tmp_path, n=6):
    write_portrait_folder(tmp_path / "set", n=n, size=(60, 80))
    examples, _ = read_examples(str(tmp_path / "set"))
    return ExampleStore.from_examples(examples, 80, "set")


def test_batches_have_documented_shapes_and_values(tmp_path):
    ds = build_dataset([_store(tmp_path)], (64, 64), batch_size=3,
                       targets=("boundary", "boxes", "centernet"))
    b = next(iter(ds))
    assert b["image"].shape == (3, 64, 64, 3) and b["image"].dtype == tf.float32
    assert b["mask"].shape == (3, 64, 64, 1) and b["labels"].dtype == tf.uint8
    assert b["boundary"].shape == (3, 64, 64, 1) and b["boxes"].shape == (3, 32, 4)
    assert b["heatmap"].shape == (3, 16, 16, 1)
    assert 0 <= float(tf.reduce_min(b["image"])) and float(tf.reduce_max(b["image"])) <= 255
    assert set(np.unique(b["mask"].numpy())) <= {0.0, 1.0}
    # The mask is where the bright "person" is, after augmentation too.
    bright = b["image"].numpy().mean(-1) > 150
    person = b["mask"].numpy()[..., 0] > 0.5
    assert (bright & person).sum() / max(person.sum(), 1) > 0.8


def test_stream_is_deterministic_for_a_seed(tmp_path):
    store = _store(tmp_path)
    a = next(iter(build_dataset([store], (64, 64), 4, seed=3)))["image"].numpy()
    b = next(iter(build_dataset([store], (64, 64), 4, seed=3)))["image"].numpy()
    c = next(iter(build_dataset([store], (64, 64), 4, seed=4)))["image"].numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0


def test_augment_presets_order_by_strength(tmp_path):
    """`none` is the evaluation letterbox; `light` moves a sample less than PortraitNet's."""
    store = _store(tmp_path)
    evaluation = next(iter(build_dataset([store], (64, 64), 6, training=False)))["image"]

    def change(preset):
        ds = build_dataset([store], (64, 64), 6, seed=1, augment=augment_preset(preset))
        image = next(iter(ds))["image"]
        # Training draws examples at random: compare each with its nearest letterboxed one.
        d = tf.reduce_mean(tf.abs(image[:, None] - evaluation[None]), axis=[2, 3, 4])
        return float(tf.reduce_mean(tf.reduce_min(d, axis=1)))

    assert change("none") < 1e-3
    assert change("none") < change("light") < change("portraitnet")
    with pytest.raises(ValueError, match="unknown augmentation preset 'heavy'"):
        augment_preset("heavy")


def test_evaluation_stream_is_one_ordered_pass(tmp_path):
    store = _store(tmp_path, n=5)
    batches = list(build_dataset([store, store], (64, 64), 4, training=False))
    assert sum(len(b["image"]) for b in batches) == 10


def test_mixture_weights_are_respected(tmp_path):
    a = _store(tmp_path / "a")
    empty = ExampleStore.from_examples(
        [Example("e", np.zeros((60, 80, 3), np.uint8), np.zeros((60, 80), np.uint8))], 80)
    ds = build_dataset([a, empty], (32, 32), 50, weights=[0.8, 0.2], seed=0)
    person_fraction = np.mean([m.any() for m in next(iter(ds))["mask"].numpy() > 0.5])
    assert 0.6 < person_fraction < 0.97


def test_ignore_label_becomes_minus_one(tmp_path):
    labels = np.zeros((32, 32), np.uint8)
    labels[:8] = IGNORE
    store = ExampleStore.from_examples([Example("x", np.zeros((32, 32, 3), np.uint8), labels)],
                                       32)
    mask = next(iter(build_dataset([store], (32, 32), 1, training=False)))["mask"].numpy()
    assert mask[0, :8].min() == -1.0 and mask[0, 8:].max() == 0.0


def test_ignored_pixels_are_ignored_cells_of_the_heatmap_but_centres_stay(tmp_path):
    """Crowd regions and unlabelled photos: no penalty for detections there (-1), yet a
    labelled person's centre next to them stays a positive."""
    from portrait_garden.losses import CenterHeatmapLoss

    labels = np.zeros((64, 64), np.uint8)
    labels[:, 40:] = IGNORE                     # a crowd region on the right
    labels[20:44, 8:24] = 1                     # a person on the left
    store = ExampleStore.from_examples([Example("x", np.zeros((64, 64, 3), np.uint8), labels)],
                                       64)
    b = next(iter(build_dataset([store], (64, 64), 1, training=False, targets=("centernet",))))
    heatmap = b["heatmap"].numpy()[0, ..., 0]
    assert (heatmap[:, 10:] == -1.0).all() and (heatmap[:, :10] >= 0).all()
    assert heatmap.max() == 1.0
    # Confident detections inside the crowd cost nothing; outside they do.
    loss = CenterHeatmapLoss()
    logits = np.full((1, 16, 16, 1), -6.0, np.float32)
    logits[0, 2:4, 3:5] = 6.0                    # the person's centre cell
    base = float(loss(b["heatmap"], logits))
    in_crowd, outside = logits.copy(), logits.copy()
    in_crowd[0, 5, 12] = 6.0
    outside[0, 12, 1] = 6.0
    assert float(loss(b["heatmap"], in_crowd)) == pytest.approx(base)
    assert float(loss(b["heatmap"], outside)) > base + 1.0


def test_main_subject_only_sets_ignore_heatmap_negatives_outside_the_labelled_box():
    """A portrait set labels only its main subject: an unmasked person beside it must cost
    the detector nothing, while the same photo from a fully labelled set teaches
    "background" there. Inside the box nothing changes, and the mask targets are equal."""
    from portrait_garden.losses import CenterHeatmapLoss

    labels = np.zeros((64, 64), np.uint8)
    labels[16:48, 8:24] = 1                     # the subject, left; its box is 8 x 4 cells
    store = ExampleStore.from_examples([Example("x", np.zeros((64, 64, 3), np.uint8), labels)],
                                       64)
    batch = next(iter(build_dataset([store, store], (64, 64), 2, training=False,
                                    targets=("centernet",), main_subject_only=[False, True])))
    heatmaps = batch["heatmap"].numpy()[..., 0]     # [fully labelled, main subject only]
    assert (heatmaps[0] >= 0).all()
    ignored = heatmaps[1] == -1.0
    assert ignored.sum() == 16 * 16 - 8 * 4
    assert not ignored[4:12, 2:6].any() and ignored[:, 6:].all() and ignored[:4].all()
    np.testing.assert_array_equal(heatmaps[1][4:12, 2:6], heatmaps[0][4:12, 2:6])
    np.testing.assert_array_equal(batch["mask"].numpy()[0], batch["mask"].numpy()[1])
    # A confident peak on the unmasked person at the right: a loss only for the full set.
    loss = CenterHeatmapLoss()
    logits = np.full((1, 16, 16, 1), -6.0, np.float32)
    logits[0, 7:9, 3:5] = 6.0                    # the subject's centre
    beside = logits.copy()
    beside[0, 8, 12] = 6.0
    full, subject = batch["heatmap"][:1], batch["heatmap"][1:]
    assert float(loss(subject, beside)) == pytest.approx(float(loss(subject, logits)))
    assert float(loss(full, beside)) > float(loss(full, logits)) + 1.0
    with pytest.raises(ValueError, match="1 main_subject_only flags for 2 datasets"):
        build_dataset([store, store], (64, 64), 2, main_subject_only=[True])


def test_unlabelled_photos_give_no_supervised_target(tmp_path):
    from PIL import Image

    from portrait_garden.data import read_unlabelled
    from portrait_garden.data.pipeline import load_unlabelled_store
    from portrait_garden.losses import CenterHeatmapLoss, SegmentationLoss

    (tmp_path / "photos" / "images").mkdir(parents=True)
    for i, size in enumerate(((50, 70), (40, 40))):
        Image.fromarray(np.full((*size, 3), 60 + 60 * i, np.uint8)).save(
            tmp_path / "photos" / "images" / f"{i}.jpg")
    (tmp_path / "photos" / "images" / "notes.txt").write_text("not a photo")
    examples, report = read_unlabelled(str(tmp_path / "photos"), max_side=35)
    assert report.read == 2 and [e.id for e in examples] == ["0", "1"]
    assert examples[0].image.shape == (25, 35, 3) and (examples[0].labels == IGNORE).all()
    store, _ = load_unlabelled_store(str(tmp_path / "photos"), max_side=40)
    b = next(iter(build_dataset([store], (32, 32), 2, training=False, targets=("centernet",))))
    # The square photo fills the frame: every pixel and every heatmap cell is ignored,
    # so the supervised losses are exactly 0 whatever the model says.
    assert (b["mask"].numpy()[1] == -1.0).all() and (b["heatmap"].numpy()[1] == -1.0).all()
    square = {k: b[k][1:] for k in ("mask", "heatmap")}
    assert float(SegmentationLoss()(square["mask"], tf.random.normal([1, 32, 32, 1]))) == 0.0
    assert float(CenterHeatmapLoss()(square["heatmap"], tf.random.normal([1, 8, 8, 1]))) == 0.0
    (tmp_path / "empty" / "images").mkdir(parents=True)
    with pytest.raises(DataError, match="no usable images"):
        read_unlabelled(str(tmp_path / "empty"))


def test_composites_overlap_and_have_exact_instance_masks():
    rng = np.random.default_rng(0)
    person = np.zeros((40, 20), np.uint8)
    person[5:40, 3:17] = 1
    source = Example("p", np.full((40, 20, 3), 200, np.uint8), person)
    cutouts = extract_cutouts([source], min_pixels=10)
    assert len(cutouts) == 1 and cutouts[0][2]  # touches the bottom border
    background = np.zeros((64, 96, 3), np.uint8)
    overlapping = 0
    for _ in range(20):
        ex = composite_example(background, cutouts, rng, num_persons=(2, 3))
        ids = [i for i in np.unique(ex.labels) if i not in (0, IGNORE)]
        assert ids == list(range(1, len(ids) + 1))  # renumbered, no empty ids
        # Every instance pixel was pasted (bright), every bright pixel is an instance.
        assert ((ex.image[..., 0] == 200) == (ex.labels > 0)).all()
        boxes, valid = instance_boxes(tf.constant(ex.labels), 8)
        b = boxes.numpy()[valid.numpy()]
        for i in range(len(b)):
            for j in range(i + 1, len(b)):
                if min(b[i, 3], b[j, 3]) > max(b[i, 1], b[j, 1]) and \
                        min(b[i, 2], b[j, 2]) > max(b[i, 0], b[j, 0]):
                    overlapping += 1
    assert overlapping >= 5


def test_composites_are_deterministic():
    person = np.ones((30, 10), np.uint8)
    cutouts = extract_cutouts([Example("p", np.full((30, 10, 3), 99, np.uint8), person)], 10)
    bgs = [np.zeros((50, 50, 3), np.uint8)]
    a = make_composites(cutouts, bgs, 3, seed=7)
    b = make_composites(cutouts, bgs, 3, seed=7)
    assert all((x.labels == y.labels).all() for x, y in zip(a, b))
    with pytest.raises(ValueError, match="cut-out"):
        make_composites([], bgs, 1)


def test_row_composites_stand_side_by_side_at_one_scale_beside_no_labelled_person():
    """A row: 3-7 people left to right on one baseline at similar heights, neighbours
    touching or slightly overlapping, never one person's box inside another's; drawn
    on the person-free part of a labelled photo, so its own subject is not cut through."""
    person = np.zeros((60, 24), np.uint8)
    person[2:50, 4:20] = 1                        # full-body: does not touch the bottom
    cutouts = extract_cutouts([Example("p", np.full((60, 24, 3), 200, np.uint8), person)], 10)
    assert not cutouts[0][2]
    # A labelled photo whose subject fills its right third: the row goes on the left part.
    photo_labels = np.zeros((90, 120), np.uint8)
    photo_labels[10:90, 85:110] = 1
    photo_image = np.full((90, 120, 3), 50, np.uint8)
    photo_image[photo_labels > 0] = 120
    photo = Example("bg", photo_image, photo_labels)
    free = person_free_background(photo)
    assert free.shape == (90, 120, 3) and (free == 50).all()      # none of the subject
    assert person_free_background(photo, min_fraction=0.8) is None
    rows = make_composites(cutouts, [photo], 12, seed=3, row_fraction=1.0)
    for ex in rows:
        ids = [i for i in np.unique(ex.labels) if i not in (0, IGNORE)]
        assert 3 <= len(ids) <= 7 and ids == list(range(1, len(ids) + 1))
        assert ((ex.image[..., 0] == 200) == (ex.labels > 0)).all()   # exact labels
        boxes = np.array([[*np.nonzero(ex.labels == i)[0][[0, -1]],
                           np.nonzero((ex.labels == i).any(0))[0][0],
                           np.nonzero((ex.labels == i).any(0))[0][-1]] for i in ids])
        inside = [b for b in boxes if b[2] > 0 and b[3] < 119]       # not cut by the border
        heights = [b[1] - b[0] for b in inside]
        assert max(heights) <= 1.3 * min(heights)                      # one scale
        assert np.ptp([b[1] for b in boxes]) <= 2                      # one baseline
        left = boxes[:, 2]
        assert (np.diff(left) > 0).all()                               # left to right
    # Not every draw is a row at 0.5, and 0 keeps the cluster composites of before.
    def is_row(ex):
        bottoms = [np.nonzero(ex.labels == i)[0][-1] for i in np.unique(ex.labels) if i]
        return len(bottoms) >= 3 and np.ptp(bottoms) <= 2

    assert all(map(is_row, rows))
    mixed = make_composites(cutouts, [photo], 20, seed=3, row_fraction=0.5)
    assert 0 < sum(map(is_row, mixed)) < 20
    plain = make_composites(cutouts, [photo], 5, seed=3)
    again = [composite_example(photo, cutouts, rng, example_id=f"composite_3_{i}")
             for rng in [np.random.default_rng(3)] for i in range(5)
             if rng.integers(1) == 0]
    assert all((a.labels == b.labels).all() for a, b in zip(plain, again))
    with pytest.raises(ValueError, match="row_fraction must be in"):
        make_composites(cutouts, [photo], 1, row_fraction=2.0)


def test_resolve_dataset_by_name(tmp_path):
    (tmp_path / "portraits" / "mine").mkdir(parents=True)
    assert resolve_dataset("mine", str(tmp_path)).endswith("mine")
    with pytest.raises(ValueError, match="known sets: \\['mine'\\]"):
        resolve_dataset("nope", str(tmp_path))


def test_unknown_targets_rejected(tmp_path):
    with pytest.raises(ValueError, match="Unknown targets"):
        build_dataset([_store(tmp_path)], targets=("mask", "depth"))
