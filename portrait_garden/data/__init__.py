"""Data: readers for folder and COCO sets, packed stores, tf.data pipeline with
augmentation and targets, multi-person composites, pictures.

One data path: the readers decode each set once into a packed in-memory store
(`ExampleStore`) that tf.data slices. TFDS builders were measured and removed
(results/data_path/tfds_vs_store.txt)."""

from portrait_garden.data.augment import AugmentConfig, apply_warp, warp_matrix
from portrait_garden.data.composite import (
    composite_example,
    extract_cutouts,
    make_composites,
    row_composite,
)
from portrait_garden.data.pipeline import (
    DATA_DIR_ENV,
    DEFAULT_MAX_SIDE,
    TARGETS,
    build_dataset,
    default_data_dir,
    keras_pairs,
    load_store,
    resolve_dataset,
)
from portrait_garden.data.readers import (
    IGNORE,
    MAX_INSTANCES,
    DataError,
    Example,
    ReadReport,
    detect_format,
    read_examples,
    read_unlabelled,
)
from portrait_garden.data.store import ExampleStore
from portrait_garden.data.targets import (
    boundary_target,
    centernet_targets,
    instance_boxes,
    person_mask,
)

__all__ = [
    "DATA_DIR_ENV",
    "DEFAULT_MAX_SIDE",
    "IGNORE",
    "MAX_INSTANCES",
    "TARGETS",
    "AugmentConfig",
    "DataError",
    "Example",
    "ExampleStore",
    "ReadReport",
    "apply_warp",
    "boundary_target",
    "build_dataset",
    "centernet_targets",
    "composite_example",
    "default_data_dir",
    "detect_format",
    "extract_cutouts",
    "instance_boxes",
    "keras_pairs",
    "load_store",
    "make_composites",
    "person_mask",
    "read_examples",
    "read_unlabelled",
    "resolve_dataset",
    "row_composite",
    "warp_matrix",
]
