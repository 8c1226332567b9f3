"""Readers for the two dataset formats: portrait folders and COCO person instances.

Both return `Example`s of one format: an RGB image and an *instance label map*
(0 = background, k = person k, `IGNORE` = not labelled, e.g. COCO crowd regions).
The person mask, the per-person masks and the boxes all derive from the label map.

Folder format (semantic portrait sets)::

    root/images/<id>.jpg   root/masks/<id>.png   [root/train.txt  root/val.txt]

COCO format (instance sets)::

    root/images/<file_name>   root/annotations.json   (category "person")
"""

import dataclasses
import io
import json
import os

import numpy as np
from PIL import Image

from portrait_garden.data.photos import apply_orientation, to_rgb8

IGNORE = 255
"""Label of pixels that count neither as person nor as background."""

MAX_INSTANCES = 32
"""Most persons one label map can hold (ids 1..MAX_INSTANCES)."""

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


class DataError(ValueError):
    """A dataset file that cannot be used; the message names the file and the problem."""


@dataclasses.dataclass
class Example:
    """One image and its labels.

    Attributes:
      id: str, the image id (file stem or COCO file name).
      image: uint8 `[H, W, 3]` RGB.
      labels: uint8 `[H, W]`, 0 = background, 1..N = person, `IGNORE` = unlabelled.
      source: str, the dataset's name.
      annotations: for COCO sets, the original instance annotations at the image's
        resolution, overlaps kept: a list of `(mask bool [H, W], iscrowd bool)`
        (what COCO-standard mask AP is computed against); None for portrait sets,
        whose label map is the annotation.
    """

    id: str
    image: np.ndarray
    labels: np.ndarray
    source: str = ""
    annotations: list = None

    @property
    def num_instances(self):
        ids = np.unique(self.labels)
        return int(np.sum((ids > 0) & (ids != IGNORE)))


@dataclasses.dataclass
class ReadReport:
    """What a read did: how many examples were read and which files were skipped."""

    source: str
    read: int = 0
    skipped: list = dataclasses.field(default_factory=list)

    def __str__(self):
        text = f"{self.source}: {self.read} examples read, {len(self.skipped)} skipped"
        for path, why in self.skipped[:10]:
            text += f"\n  skipped {path}: {why}"
        if len(self.skipped) > 10:
            text += f"\n  ... and {len(self.skipped) - 10} more"
        return text


def _open_image(path, mode, max_side=None):
    """Decodes an image file fully (truncated files fail here, not later).

    `mode="RGB"` decodes a photo as a viewer shows it (`photos.to_rgb8`: EXIF
    orientation applied, 16-bit / palette / CMYK / alpha formats to 8-bit RGB).

    Returns:
      `(PIL image in mode, EXIF orientation applied)`; masks (`mode="L"`) are
      never rotated (orientation 1).
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
        img = Image.open(io.BytesIO(data))
        if max_side and img.format == "JPEG":
            img.draft(mode, (max_side, max_side))  # fast DCT-domain downscale
        img.load()
        if mode == "RGB":
            return to_rgb8(img)
        return img.convert(mode), 1
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: cannot decode image ({e}). The file is corrupt, truncated "
                        "or too large; replace it or pass skip_bad=True.") from None


def _orient_labels(labels, orientation, image_size):
    """Labels drawn on the stored frame of an EXIF-rotated photo, turned upright like it
    (unchanged when they already have the upright photo's size)."""
    if orientation != 1 and (labels.shape[1], labels.shape[0]) != image_size:
        labels = np.asarray(apply_orientation(Image.fromarray(labels), orientation))
    return np.ascontiguousarray(labels)


def _fit_size(height, width, max_side):
    if not max_side or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _resize_mask(mask, max_side):
    """A uint8 mask resized (nearest) like `_resize_pair` resizes its labels."""
    h, w = mask.shape
    nh, nw = _fit_size(h, w, max_side)
    if (nh, nw) == (h, w):
        return mask
    return np.asarray(Image.fromarray(mask).resize((nw, nh), Image.NEAREST))


def _resize_pair(image, labels, max_side):
    """Resizes a PIL image (bilinear) and a uint8 label array (nearest) to fit max_side."""
    h, w = labels.shape
    nh, nw = _fit_size(h, w, max_side)
    if image.size != (nw, nh):
        image = image.resize((nw, nh), Image.BILINEAR)
    if (nh, nw) != (h, w):
        labels = np.asarray(Image.fromarray(labels).resize((nw, nh), Image.NEAREST))
    return np.asarray(image, np.uint8), np.ascontiguousarray(labels, np.uint8)


# ---------------------------------------------------------------- portrait folders


SPLITS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits")
"""Split id lists shipped with the package, `splits/<set name>/<split>.txt`, for sets
whose release has none (e.g. `vikram`: a fixed in-the-wild train/val split)."""


def find_split_file(root, split):
    """The id list of `split` for the set at `root`.

    Looks for `root/<split>.txt` first, then the package's
    `splits/<basename(root)>/<split>.txt`.

    Raises:
      DataError: neither exists; lists the splits that do.
    """
    name = os.path.basename(os.path.normpath(root))
    candidates = [os.path.join(root, f"{split}.txt"),
                  os.path.join(SPLITS_DIR, name, f"{split}.txt")]
    for path in candidates:
        if os.path.isfile(path):
            return path
    available = sorted({f[:-4] for d in (root, os.path.join(SPLITS_DIR, name))
                        if os.path.isdir(d) for f in os.listdir(d) if f.endswith(".txt")})
    raise DataError(f"{candidates[0]}: split file not found; available "
                    f"splits: {available or 'none (omit split to read every image)'} (looked "
                    f"in {root} and {os.path.dirname(candidates[1])}).")


def read_split_ids(root, split, known, images_dir):
    """The ids `split` lists (`find_split_file`), checked against `known` image stems.

    Raises:
      DataError: the split file is missing, or lists an id with no image.
    """
    split_file = find_split_file(root, split)
    with open(split_file, encoding="utf-8") as f:
        ids = [line.strip() for line in f if line.strip()]
    missing = [i for i in ids if i not in known]
    if missing:
        raise DataError(f"{split_file}: lists {len(missing)} ids with no image in "
                        f"{images_dir}, e.g. {missing[:3]}.")
    return ids


def list_portrait_folder(root, split=None):
    """Lists `(id, image_path, mask_path)` of a portrait folder.

    Args:
      root: folder with `images/` and `masks/`.
      split: optional split name; reads ids from `root/<split>.txt` or the
        package's `splits/<set name>/<split>.txt` (see `find_split_file`).

    Raises:
      DataError: missing folders or split file, or an empty set.
    """
    images_dir, masks_dir = os.path.join(root, "images"), os.path.join(root, "masks")
    for d in (images_dir, masks_dir):
        if not os.path.isdir(d):
            raise DataError(f"{d}: folder not found. A portrait set needs images/<id>.jpg "
                            "and masks/<id>.png under its root.")
    by_stem = {}
    for name in sorted(os.listdir(images_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS:
            by_stem[stem] = os.path.join(images_dir, name)
    if split is not None:
        ids = read_split_ids(root, split, by_stem, images_dir)
    else:
        ids = list(by_stem)
    if not ids:
        raise DataError(f"{images_dir}: no images (.jpg/.jpeg/.png) found.")
    return [(i, by_stem[i], os.path.join(masks_dir, f"{i}.png")) for i in ids]


def load_portrait_example(example_id, image_path, mask_path, max_side=None, source=""):
    """Reads one portrait image and its binary mask (0 = background, >=128 = person).

    Raises:
      DataError: missing mask, undecodable file, or image/mask size mismatch.
    """
    if not os.path.isfile(mask_path):
        raise DataError(f"{image_path}: its mask {mask_path} is missing. Add the mask or "
                        "pass skip_bad=True; an image without a mask is never used as "
                        "all-background.")
    image, orientation = _open_image(image_path, "RGB")
    mask, _ = _open_image(mask_path, "L")
    labels = _orient_labels((np.asarray(mask) >= 128).astype(np.uint8), orientation,
                            image.size)
    if labels.shape[::-1] != image.size:
        raise DataError(f"{mask_path}: mask size {mask.size[0]}x{mask.size[1]} differs from "
                        f"image {image_path} size {image.size[0]}x{image.size[1]} (WxH).")
    image, labels = _resize_pair(image, labels, max_side)
    return Example(example_id, image, labels, source)


# ---------------------------------------------------------------- COCO instances


def _load_coco_json(path):
    if not os.path.isfile(path):
        raise DataError(f"{path}: annotation file not found.")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: malformed JSON ({e}).") from None
    if not isinstance(data, dict) or not data:
        raise DataError(f"{path}: empty annotation file; expected COCO keys 'images', "
                        "'annotations', 'categories'.")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{path}: missing or malformed '{key}' list (COCO instances "
                            "format).")
    return data


def _person_category_ids(data, path):
    ids = {c.get("id") for c in data["categories"] if c.get("name") == "person"}
    if not ids:
        names = [c.get("name") for c in data["categories"]]
        raise DataError(f"{path}: no 'person' category (categories: {names}).")
    known = {c.get("id") for c in data["categories"]}
    for ann in data["annotations"]:
        if ann.get("category_id") not in known:
            raise DataError(f"{path}: annotation {ann.get('id')} has unknown category_id "
                            f"{ann.get('category_id')!r}; known: {sorted(known)}.")
    return ids


def _decode_segmentation(segmentation, height, width, where):
    from pycocotools import mask as mask_utils

    try:
        if isinstance(segmentation, list):
            polygons = [p for p in segmentation if len(p) >= 6]
            if not polygons:
                return np.zeros((height, width), np.uint8)
            rles = mask_utils.frPyObjects(polygons, height, width)
            rle = mask_utils.merge(rles)
        elif isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
            rle = mask_utils.frPyObjects(segmentation, height, width)
        elif isinstance(segmentation, dict):
            rle = dict(segmentation)
            if isinstance(rle["counts"], str):
                rle["counts"] = rle["counts"].encode("ascii")
        else:
            raise TypeError(f"unsupported segmentation type {type(segmentation).__name__}")
        m = mask_utils.decode(rle)
    except Exception as e:  # pycocotools raises plain Exceptions
        raise DataError(f"{where}: cannot decode segmentation ({e}).") from None
    if m.shape[:2] != (height, width):
        raise DataError(f"{where}: segmentation size {m.shape[:2]} differs from the image "
                        f"size {(height, width)} given in the annotation file.")
    return m.astype(np.uint8)


def iter_coco_examples(root, max_side=None, skip_bad=False, report=None, source="",
                       split=None):
    """Yields `Example`s of a COCO person-instance set (crowd regions -> `IGNORE`).

    Persons are painted largest first, so a smaller (usually nearer, occluding)
    person keeps the pixels two annotations share. Images with no person
    annotation yield an all-background example (a useful negative).

    Args:
      root: folder with `annotations.json` and `images/`.
      max_side: optional int, resize so the longer side is at most this.
      skip_bad: bool, skip and report bad images instead of raising.
      report: optional `ReadReport` to fill.
      source: str, name stored in each example.
      split: optional split name: only the images whose file-name stems its id list
        holds (`find_split_file`, e.g. the package's `splits/pfg_sports/dev.txt`).

    Raises:
      DataError: bad annotation file, unknown category, a split id with no image,
        or (without `skip_bad`) an unreadable image.
    """
    ann_path = os.path.join(root, "annotations.json")
    data = _load_coco_json(ann_path)
    person_ids = _person_category_ids(data, ann_path)
    by_image = {}
    for ann in data["annotations"]:
        if ann.get("category_id") in person_ids:
            by_image.setdefault(ann.get("image_id"), []).append(ann)
    infos = data["images"]
    if split is not None:
        stems = {os.path.splitext(str(info.get("file_name")))[0]: info for info in infos}
        infos = [stems[i] for i in read_split_ids(root, split, stems, ann_path)]
    for info in infos:
        file_name = info.get("file_name")
        image_path = os.path.join(root, "images", str(file_name))
        try:
            image, orientation = _open_image(image_path, "RGB")
            height, width = info.get("height"), info.get("width")
            stored = image.size if orientation in (1, 2, 3, 4) else image.size[::-1]
            if (width, height) not in (image.size, stored):
                raise DataError(f"{image_path}: image is {image.size[0]}x{image.size[1]} but "
                                f"{ann_path} says {width}x{height} (WxH).")
            labels = np.zeros((height, width), np.uint8)
            anns = sorted(by_image.get(info.get("id"), []),
                          key=lambda a: -float(a.get("area", 0)))
            crowd = np.zeros((height, width), bool)
            next_id = 1
            originals = []
            for ann in anns:
                where = f"{ann_path} annotation {ann.get('id')}"
                m = _decode_segmentation(ann.get("segmentation"), height, width, where) > 0
                originals.append((m, bool(ann.get("iscrowd"))))
                if ann.get("iscrowd"):
                    crowd |= m
                    continue
                if next_id > MAX_INSTANCES:
                    raise DataError(f"{image_path}: more than {MAX_INSTANCES} persons.")
                labels[m] = next_id
                next_id += 1
            labels[crowd & (labels == 0)] = IGNORE
            labels = _orient_labels(labels, orientation, image.size)
            originals = [(_orient_labels(m.astype(np.uint8), orientation, image.size), crowd)
                         for m, crowd in originals]
            annotations = [(_resize_mask(m, max_side) > 0, crowd) for m, crowd in originals]
            image, labels = _resize_pair(image, labels, max_side)
        except DataError as e:
            if not skip_bad:
                raise
            if report is not None:
                report.skipped.append((image_path, str(e)))
            continue
        if report is not None:
            report.read += 1
        yield Example(str(file_name), image, labels, source, annotations)


# ---------------------------------------------------------------- any dataset


def detect_format(root):
    """`"coco"` if `root/annotations.json` exists, `"folder"` if `root/images` and
    `root/masks` do; raises `DataError` otherwise."""
    if os.path.isfile(os.path.join(root, "annotations.json")):
        return "coco"
    if os.path.isdir(os.path.join(root, "images")) and os.path.isdir(os.path.join(root, "masks")):
        return "folder"
    raise DataError(f"{root}: not a dataset folder. Expected images/ + masks/ (portrait "
                    "folder) or images/ + annotations.json (COCO instances).")


def read_examples(root, split=None, max_side=None, skip_bad=False):
    """Reads a whole dataset folder of either format into memory.

    Args:
      root: dataset folder.
      split: optional split: ids from `root/<split>.txt` or the package's
        `splits/<set name>/<split>.txt` (both formats).
      max_side: optional int, resize each image to fit this (saves memory).
      skip_bad: bool, count and report bad files instead of raising.

    Returns:
      `(examples, report)`: a list of `Example` and a `ReadReport`.
    """
    source = os.path.basename(os.path.normpath(root))
    report = ReadReport(source if split is None else f"{source}/{split}")
    if detect_format(root) == "coco":
        examples = list(iter_coco_examples(root, max_side, skip_bad, report, source, split))
    else:
        examples = []
        for example_id, image_path, mask_path in list_portrait_folder(root, split):
            try:
                examples.append(load_portrait_example(example_id, image_path, mask_path,
                                                      max_side, source))
            except DataError as e:
                if not skip_bad:
                    raise
                report.skipped.append((image_path, str(e)))
        report.read = len(examples)
    if not examples:
        raise DataError(f"{root}: no usable examples ({len(report.skipped)} skipped).")
    return examples, report


def read_unlabelled(root, max_side=None, skip_bad=False):
    """Reads a folder of photos without labels (`root/images/*`, or `root` itself) for
    distillation: every pixel of each label map is `IGNORE`, so only a teacher's
    targets train on them.

    Returns:
      `(examples, report)` as `read_examples`.

    Raises:
      DataError: no such folder or no images in it (or an unreadable one without
        `skip_bad`).
    """
    images_dir = os.path.join(root, "images")
    images_dir = images_dir if os.path.isdir(images_dir) else root
    if not os.path.isdir(images_dir):
        raise DataError(f"{root}: folder not found. Unlabelled photos go in "
                        "<folder>/images/ (.jpg/.jpeg/.png).")
    source = os.path.basename(os.path.normpath(root))
    report = ReadReport(f"{source} (unlabelled)")
    examples = []
    for name in sorted(os.listdir(images_dir)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in IMAGE_EXTENSIONS:
            continue
        path = os.path.join(images_dir, name)
        try:
            image, _ = _open_image(path, "RGB", max_side)
        except DataError as e:
            if not skip_bad:
                raise
            report.skipped.append((path, str(e)))
            continue
        labels = np.full((image.size[1], image.size[0]), IGNORE, np.uint8)
        image, labels = _resize_pair(image, labels, max_side)
        examples.append(Example(stem, image, labels, source))
    report.read = len(examples)
    if not examples:
        raise DataError(f"{images_dir}: no usable images (.jpg/.jpeg/.png; "
                        f"{len(report.skipped)} skipped).")
    return examples, report
