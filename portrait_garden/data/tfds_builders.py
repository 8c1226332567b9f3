"""TFDS builders for the two dataset formats, prepared offline from a manual folder.

Both builders yield one example format::

    {"id": str, "image": uint8 [H, W, 3],
     "person_mask": uint8 [H, W, 1]  (0 background, 1 person, 255 ignore),
     "instance_masks": uint8 [N, H, W, 1] (one 0/1 mask per person),
     "boxes": [N] tfds BBox (ymin, xmin, ymax, xmax, normalized)}

Nothing is downloaded: the folder is given as the manual directory.

Example:
>>> builder = prepare("../shared/data/portraits/pfcn", data_dir="~/tensorflow_datasets")
>>> ds = builder.as_dataset(split="val")
"""

import os

import numpy as np
import tensorflow_datasets as tfds

from portrait_garden.data.readers import (
    IGNORE,
    detect_format,
    iter_coco_examples,
    list_portrait_folder,
    load_portrait_example,
)

_DESCRIPTION = "Portrait / person instance segmentation set read by portrait_garden."


def _features():
    return tfds.features.FeaturesDict({
        "id": tfds.features.Text(),
        "image": tfds.features.Image(shape=(None, None, 3)),
        "person_mask": tfds.features.Image(shape=(None, None, 1)),
        "instance_masks": tfds.features.Sequence(tfds.features.Image(shape=(None, None, 1))),
        "boxes": tfds.features.Sequence(tfds.features.BBoxFeature()),
    })


def _encode(example):
    labels = example.labels
    person = np.where(labels == IGNORE, IGNORE, (labels > 0).astype(np.uint8))
    ids = [i for i in np.unique(labels) if i not in (0, IGNORE)]
    masks, boxes = [], []
    h, w = labels.shape
    for pid in ids:
        m = labels == pid
        ys, xs = np.nonzero(m)
        masks.append(m.astype(np.uint8)[..., None])
        boxes.append(tfds.features.BBox(ys.min() / h, xs.min() / w, (ys.max() + 1) / h,
                                        (xs.max() + 1) / w))
    return {"id": example.id, "image": example.image,
            "person_mask": person.astype(np.uint8)[..., None],
            "instance_masks": masks, "boxes": boxes}


class PortraitFolder(tfds.core.GeneratorBasedBuilder):
    """Folder portrait set: `images/<id>.jpg`, `masks/<id>.png`, optional `<split>.txt`."""

    VERSION = tfds.core.Version("1.0.0")
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass the set's folder (images/, masks/, optional "
                                    "train.txt/val.txt) as the manual directory.")

    def _info(self):
        return self.dataset_info_from_configs(description=_DESCRIPTION, features=_features())

    def _split_generators(self, dl_manager):
        root = str(dl_manager.manual_dir)
        splits = sorted(f[:-4] for f in os.listdir(root) if f.endswith(".txt"))
        if not splits:
            return {"train": self._generate_examples(root, None)}
        return {s: self._generate_examples(root, s) for s in splits}

    def _generate_examples(self, root, split):
        for example_id, image_path, mask_path in list_portrait_folder(root, split):
            yield example_id, _encode(load_portrait_example(example_id, image_path, mask_path))


class CocoPersons(tfds.core.GeneratorBasedBuilder):
    """COCO instances set (person category), crowd regions marked 255 in `person_mask`."""

    VERSION = tfds.core.Version("1.0.0")
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass the folder holding annotations.json and images/ "
                                    "as the manual directory.")

    def _info(self):
        return self.dataset_info_from_configs(description=_DESCRIPTION, features=_features())

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(str(dl_manager.manual_dir))}

    def _generate_examples(self, root):
        for example in iter_coco_examples(root):
            yield example.id, _encode(example)


def prepare(path, data_dir=None):
    """Prepares (once) and returns the TFDS builder of a dataset folder.

    The builder config is named after the folder (`pfcn`, `coco128`, ...), so
    several sets of one format live side by side in `data_dir`.

    Args:
      path: the dataset folder (either format).
      data_dir: TFDS data directory. Defaults to TFDS' default.

    Returns:
      A prepared `tfds.core.DatasetBuilder`; use `.as_dataset(split=...)`.
    """
    path = os.path.abspath(path)
    cls = CocoPersons if detect_format(path) == "coco" else PortraitFolder
    name = os.path.basename(os.path.normpath(path)).lower().replace("-", "_")
    config = tfds.core.BuilderConfig(name=name, description=f"Read from {path}")
    builder = cls(config=config, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=path, try_download_gcs=False))
    return builder
