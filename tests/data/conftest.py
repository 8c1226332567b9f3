"""Tiny datasets written to a temp folder in both formats."""

import json

import numpy as np
import pytest
from PIL import Image


def write_portrait_folder(root, n=4, size=(48, 64), splits=True, seed=0):
    """`root/images/<id>.jpg`, `root/masks/<id>.png` with a rectangle "person"."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    ids = [f"{i:03d}" for i in range(n)]
    h, w = size
    for i in ids:
        image = rng.integers(0, 80, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[h // 4: h, w // 4: 3 * w // 4] = 255
        image[mask > 0] = 200
        Image.fromarray(image).save(root / "images" / f"{i}.jpg", quality=95)
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    if splits:
        (root / "train.txt").write_text("\n".join(ids[:-1]) + "\n")
        (root / "val.txt").write_text(ids[-1] + "\n")
    return ids


def write_coco_set(root, with_crowd=True):
    """Three images: two overlapping persons (polygon + RLE), a crowd region, a negative."""
    from pycocotools import mask as mask_utils

    (root / "images").mkdir(parents=True)
    h, w = 40, 60
    for i, name in enumerate(("a.png", "b.png", "empty.png")):
        Image.fromarray(np.full((h, w, 3), 90 + 40 * i, np.uint8)).save(root / "images" / name)
    big = np.zeros((h, w), np.uint8)
    big[5:35, 5:35] = 1
    rle = mask_utils.encode(np.asfortranarray(big))
    rle["counts"] = rle["counts"].decode("ascii")
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 900,
         "bbox": [5, 5, 30, 30], "segmentation": rle},
        # Smaller polygon person overlapping the big one: x 25..45, y 10..30.
        {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 400,
         "bbox": [25, 10, 20, 20], "segmentation": [[25, 10, 45, 10, 45, 30, 25, 30]]},
        {"id": 3, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 100,
         "bbox": [0, 0, 10, 10], "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
    ]
    if with_crowd:
        crowd = np.zeros((h, w), np.uint8)
        crowd[20:40, 40:60] = 1
        crowd_rle = mask_utils.encode(np.asfortranarray(crowd))
        crowd_rle["counts"] = crowd_rle["counts"].decode("ascii")
        annotations.append({"id": 4, "image_id": 2, "category_id": 1, "iscrowd": 1,
                            "area": 400, "bbox": [40, 20, 20, 20], "segmentation": crowd_rle})
    data = {
        "images": [{"id": 1, "file_name": "a.png", "height": h, "width": w},
                   {"id": 2, "file_name": "b.png", "height": h, "width": w},
                   {"id": 3, "file_name": "empty.png", "height": h, "width": w}],
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person", "supercategory": "person"}],
    }
    (root / "annotations.json").write_text(json.dumps(data))
    return data


@pytest.fixture
def portrait_folder(tmp_path):
    root = tmp_path / "portraits"
    write_portrait_folder(root)
    return root


@pytest.fixture
def coco_set(tmp_path):
    root = tmp_path / "coco"
    write_coco_set(root)
    return root
