import json
import os

import numpy as np
import pytest
from PIL import Image

from portrait_garden.data import IGNORE, DataError, detect_format, read_examples


def test_portrait_folder_reads_splits_and_masks(portrait_folder):
    train, report = read_examples(str(portrait_folder), "train")
    val, _ = read_examples(str(portrait_folder), "val")
    assert (len(train), len(val), report.read) == (3, 1, 3)
    ex = train[0]
    assert ex.image.shape == (48, 64, 3) and ex.labels.shape == (48, 64)
    assert set(np.unique(ex.labels)) == {0, 1} and ex.num_instances == 1
    assert ex.labels[47, 32] == 1 and ex.labels[0, 0] == 0


def test_max_side_resizes_image_and_labels_together(portrait_folder):
    examples, _ = read_examples(str(portrait_folder), max_side=32)
    assert examples[0].image.shape == (24, 32, 3) and examples[0].labels.shape == (24, 32)


def test_coco_instances_overlap_crowd_and_negatives(coco_set):
    examples, report = read_examples(str(coco_set))
    by_id = {ex.id: ex for ex in examples}
    a = by_id["a.png"].labels
    assert by_id["a.png"].num_instances == 2
    # Larger person painted first; the smaller one keeps the shared pixels.
    assert a[20, 30] == 2 and a[20, 10] == 1 and a[20, 40] == 2 and a[38, 50] == 0
    b = by_id["b.png"].labels
    assert b[5, 5] == 1 and b[30, 50] == IGNORE and by_id["b.png"].num_instances == 1
    assert by_id["empty.png"].num_instances == 0 and not by_id["empty.png"].labels.any()
    assert report.read == 3 and detect_format(str(coco_set)) == "coco"


def test_missing_mask_names_the_file(portrait_folder):
    (portrait_folder / "masks" / "001.png").unlink()
    with pytest.raises(DataError, match=r"001\.jpg: its mask .*001\.png is missing"):
        read_examples(str(portrait_folder))
    examples, report = read_examples(str(portrait_folder), skip_bad=True)
    assert len(examples) == 3 and len(report.skipped) == 1
    assert "001.jpg" in report.skipped[0][0] and "1 skipped" in str(report)


def test_size_mismatch_names_both_sizes(portrait_folder):
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(portrait_folder / "masks" / "002.png")
    with pytest.raises(DataError, match=r"002\.png: mask size 10x10 differs from image"):
        read_examples(str(portrait_folder))


def test_truncated_jpeg_is_reported_not_decoded_as_garbage(portrait_folder):
    path = portrait_folder / "images" / "000.jpg"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"000\.jpg: cannot decode image"):
        read_examples(str(portrait_folder))
    examples, report = read_examples(str(portrait_folder), skip_bad=True)
    assert len(examples) == 3 and len(report.skipped) == 1


@pytest.mark.parametrize("content, message", [
    ("", "malformed JSON"),
    ("{}", "empty annotation file"),
    ('{"images": [], "annotations": {}, "categories": []}', "'annotations' list"),
])
def test_bad_annotation_files(coco_set, content, message):
    (coco_set / "annotations.json").write_text(content)
    with pytest.raises(DataError, match=message) as info:
        read_examples(str(coco_set))
    assert "annotations.json" in str(info.value)


def test_unknown_category_and_missing_person_category(coco_set):
    data = json.loads((coco_set / "annotations.json").read_text())
    data["annotations"][0]["category_id"] = 7
    (coco_set / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match="unknown category_id 7"):
        read_examples(str(coco_set))
    data["categories"] = [{"id": 7, "name": "dog"}]
    (coco_set / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match="no 'person' category"):
        read_examples(str(coco_set))


def test_missing_split_and_non_dataset_folders(portrait_folder, tmp_path):
    with pytest.raises(DataError, match="split file not found; available splits"):
        read_examples(str(portrait_folder), "test")
    with pytest.raises(DataError, match="not a dataset folder"):
        read_examples(str(tmp_path))


def test_coco_set_reads_a_split_by_file_stem(coco_set):
    (coco_set / "dev.txt").write_text("b\nempty\n")
    examples, report = read_examples(str(coco_set), "dev")
    assert [ex.id for ex in examples] == ["b.png", "empty.png"]
    assert report.source == "coco/dev" and report.read == 2
    (coco_set / "bad.txt").write_text("a\nmissing\n")
    with pytest.raises(DataError, match=r"bad\.txt: lists 1 ids with no image.*missing"):
        read_examples(str(coco_set), "bad")


def test_shipped_pfg_sports_split_is_disjoint_and_complete():
    from portrait_garden.data.readers import SPLITS_DIR

    def ids(name):
        with open(os.path.join(SPLITS_DIR, "pfg_sports", f"{name}.txt")) as f:
            return [line.strip() for line in f if line.strip()]

    dev, test = ids("dev"), ids("test")
    assert len(dev) == 20 and len(test) == 50 and not set(dev) & set(test)
    assert len(set(dev + test)) == 70
