"""tf.data input pipeline: packed stores -> augmented, letterboxed batches with targets."""

import os

import tensorflow as tf

from portrait_garden.data.augment import (
    AugmentConfig,
    apply_warp,
    photometric,
    random_geometry,
    warp_matrix,
)
from portrait_garden.data.readers import (
    IGNORE,
    MAX_INSTANCES,
    DataError,
    read_examples,
    read_unlabelled,
)
from portrait_garden.data.store import ExampleStore
from portrait_garden.data.targets import (
    boundary_target,
    centernet_targets,
    instance_boxes,
    outside_boxes,
    person_mask,
)

TARGETS = ("mask", "boundary", "boxes", "centernet")
"""Targets `build_dataset` can add to each sample."""

DATA_DIR_ENV = "PORTRAIT_GARDEN_DATA"
"""Environment variable naming the data root (default: ../shared/data)."""

DEFAULT_MAX_SIDE = 320
"""Images are cached at this longer side: room for zoom-in augmentation at 256."""


def default_data_dir():
    """The data root: `$PORTRAIT_GARDEN_DATA`, else `../shared/data` from the cwd."""
    return os.environ.get(DATA_DIR_ENV, os.path.join("..", "shared", "data"))


def resolve_dataset(name_or_path, data_dir=None):
    """A dataset folder from a path, or a set name under the data root.

    `"pfcn"` resolves to `<data_dir>/portraits/pfcn` or `<data_dir>/instances/pfcn`.

    Raises:
      DataError: neither a folder nor a known set name, listing what exists.
    """
    if os.path.isdir(name_or_path):
        return name_or_path
    data_dir = data_dir or default_data_dir()
    for group in ("portraits", "instances", ""):
        candidate = os.path.join(data_dir, group, name_or_path)
        if os.path.isdir(candidate):
            return candidate
    known = []
    for group in ("portraits", "instances"):
        folder = os.path.join(data_dir, group)
        if os.path.isdir(folder):
            known += sorted(os.listdir(folder))
    raise DataError(f"{name_or_path!r} is neither a dataset folder nor a set under "
                    f"{data_dir} (known sets: {known or 'none'}). Pass a path, or set "
                    f"--data-dir / ${DATA_DIR_ENV}.")


def load_store(path, split=None, max_side=DEFAULT_MAX_SIDE, skip_bad=False):
    """Reads a dataset folder and packs it: returns `(ExampleStore, ReadReport)`."""
    examples, report = read_examples(path, split, max_side, skip_bad)
    return ExampleStore.from_examples(examples, max_side, report.source), report


def load_unlabelled_store(path, max_side=DEFAULT_MAX_SIDE, skip_bad=False):
    """Reads a folder of unlabelled photos (`read_unlabelled`: every label `IGNORE`) and
    packs it: returns `(ExampleStore, ReadReport)`."""
    examples, report = read_unlabelled(path, max_side, skip_bad)
    return ExampleStore.from_examples(examples, max_side, report.source), report


def ignore_cells(labels, stride):
    """bool `[H/stride, W/stride, 1]`: detector cells that hold an `IGNORE` pixel (crowd
    regions, unlabelled photos)."""
    ignored = tf.cast(tf.equal(labels, IGNORE), tf.float32)[None, ..., None]
    return tf.nn.max_pool2d(ignored, stride, stride, "VALID")[0] > 0


def _gather(store, subject_only=False):
    images = tf.constant(store.images)
    labels = tf.constant(store.labels)
    sizes = tf.constant(store.sizes)

    def get(index):
        index = tf.cast(index, tf.int32)
        h, w = sizes[index][0], sizes[index][1]
        return images[index, :h, :w], labels[index, :h, :w], tf.constant(subject_only)

    return get


def _make_sample(image, labels, subject_only, seed, image_size, training, augment,
                 boundary_width, targets, stride):
    image = tf.cast(image, tf.float32)
    in_size = (tf.shape(labels)[0], tf.shape(labels)[1])
    if training:
        geometry_seed, colour_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        matrix = random_geometry(geometry_seed, in_size, image_size, augment)
    else:
        matrix = warp_matrix(in_size, image_size)
    image, labels = apply_warp(image, labels, matrix, image_size)
    if training:
        image = photometric(image, colour_seed, augment)
    image = tf.ensure_shape(image, [*image_size, 3])
    labels = tf.ensure_shape(labels, image_size)
    mask = person_mask(labels)
    sample = {"image": image, "labels": labels, "mask": mask}
    if "boundary" in targets:
        sample["boundary"] = boundary_target(mask, boundary_width)
    if "boxes" in targets or "centernet" in targets:
        boxes, valid = instance_boxes(labels, MAX_INSTANCES)
        sample["boxes"] = boxes
        sample["num_instances"] = tf.reduce_sum(tf.cast(valid, tf.int32))
        if "centernet" in targets:
            centernet = centernet_targets(boxes, valid, image_size, stride)
            # No penalty for detections where nobody labelled: the heatmap loss skips
            # negative targets (centres themselves stay positive). With only the main
            # subject labelled, that is everywhere outside its box too.
            heatmap = centernet["heatmap"]
            unlabelled = ignore_cells(labels, stride) | (
                subject_only & outside_boxes(boxes, valid, heatmap.shape[:2]))
            centernet["heatmap"] = tf.where(unlabelled & (heatmap < 1.0), -1.0, heatmap)
            sample.update(centernet)
    return sample


def build_dataset(stores, image_size=(256, 256), batch_size=8, training=True, weights=None,
                  seed=0, augment=None, targets=("mask",), boundary_width=3,
                  detector_stride=4, drop_remainder=None, main_subject_only=None):
    """The batched input pipeline over one or more packed stores.

    Training: each store is shuffled and repeated, the stores are mixed with
    `weights` (default: proportional to their sizes), and every example is
    randomly warped (scale, rotation, translation, flip, letterbox to
    `image_size`) and recoloured (colour, illumination, blur, noise).
    Evaluation (`training=False`): one pass, letterbox only, in order.

    Args:
      stores: list of `ExampleStore`.
      image_size: `(H, W)`. Defaults to `(256, 256)`.
      batch_size: int. Defaults to 8.
      training: bool. Defaults to True.
      weights: optional list of floats, sampling weight of each store.
      seed: int, makes the whole stream deterministic. Defaults to 0.
      augment: `AugmentConfig`, defaults to `AugmentConfig()`.
      targets: which targets to add besides `image`, `labels` and `mask`:
        `"boundary"` (`[B, H, W, 1]` band), `"boxes"` (`boxes`
        `[B, MAX_INSTANCES, 4]` normalized yxyx, `num_instances` `[B]`),
        `"centernet"` (`heatmap`, `size`, `size_mask` at `detector_stride`).
        Defaults to `("mask",)`.
      boundary_width: int, half-width of the boundary band. Defaults to 3.
      detector_stride: int, stride of the CenterNet targets. Defaults to 4.
      drop_remainder: bool; defaults to `training`.
      main_subject_only: optional list of bools, one per store: that store labels only
        each photo's main subject (`DatasetConfig.main_subject_only`), so its centre
        heatmap targets ignore negatives outside the labelled boxes. Defaults to all
        False.

    Returns:
      `tf.data.Dataset` of dicts: `image` float32 `[B, H, W, 3]` in [0, 255],
      `labels` uint8 `[B, H, W]` (instance ids, 255 ignore), `mask` float32
      `[B, H, W, 1]` (1 person, 0 background, -1 ignore), and the requested
      targets.
    """
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        raise ValueError(f"Unknown targets {unknown}; available: {list(TARGETS)}.")
    if not stores:
        raise ValueError("build_dataset needs at least one store.")
    image_size = tuple(int(v) for v in image_size)
    augment = augment or AugmentConfig()
    drop_remainder = training if drop_remainder is None else drop_remainder
    if weights is not None and len(weights) != len(stores):
        raise ValueError(f"{len(weights)} weights for {len(stores)} datasets.")
    main_subject_only = [False] * len(stores) if main_subject_only is None \
        else [bool(flag) for flag in main_subject_only]
    if len(main_subject_only) != len(stores):
        raise ValueError(f"{len(main_subject_only)} main_subject_only flags for "
                         f"{len(stores)} datasets.")

    def make_sample(image, labels, subject_only, sample_seed):
        return _make_sample(image, labels, subject_only, sample_seed, image_size, training,
                            augment, boundary_width, tuple(targets), detector_stride)

    per_store = []
    for i, (store, subject_only) in enumerate(zip(stores, main_subject_only)):
        ds = tf.data.Dataset.range(len(store))
        if training:
            ds = ds.shuffle(len(store), seed=seed + i, reshuffle_each_iteration=True).repeat()
        per_store.append(ds.map(_gather(store, subject_only)))
    if len(per_store) == 1:
        ds = per_store[0]
    elif training:
        if weights is None:
            weights = [float(len(s)) for s in stores]
        total = float(sum(weights))
        ds = tf.data.Dataset.sample_from_datasets(
            per_store, [w / total for w in weights], seed=seed)
    else:
        ds = per_store[0]
        for other in per_store[1:]:
            ds = ds.concatenate(other)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds)).map(
        lambda item, s: make_sample(*item, s),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def keras_pairs(dataset, output_names):
    """Maps pipeline dicts to `(image, targets)` pairs for `model.fit`.

    Segmentation outputs get the person mask; detector outputs get the
    CenterNet targets (build the dataset with `targets=("centernet",)`).
    """
    from portrait_garden.losses.segmentation import targets_for_outputs

    names = list(output_names)

    def pair(s):
        detector = {k: s[k] for k in ("heatmap", "size", "size_mask") if k in s} or None
        return s["image"], targets_for_outputs(s["mask"], names, detector)

    return dataset.map(pair, num_parallel_calls=tf.data.AUTOTUNE)

