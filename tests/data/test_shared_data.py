"""Reads the real sets in ../shared/data; skipped with a reason where it is absent."""

import os

import pytest

from portrait_garden.data import read_examples
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(
    not os.path.isdir(SHARED_DATA),
    reason=f"real data not found at {SHARED_DATA} (see the data README); synthetic tests "
           "cover the same code")


@pytest.mark.parametrize("subset, split, images, persons", [
    ("portraits/pfcn", "val", 135, 135),
    ("portraits/vikram", None, 232, 232),
    ("instances/pfg_sports", None, 70, 165),
    ("instances/coco128", None, 100, 205),  # 209 persons, 4 of them crowd regions
    # The package's fixed split (splits/coco128/): the val part is held out of training.
    ("instances/coco128", "val", 25, 53),
    ("instances/coco128", "train", 75, 152),
])
def test_real_sets_read_completely(subset, split, images, persons):
    examples, report = read_examples(os.path.join(SHARED_DATA, subset), split, max_side=160)
    assert report.read == images and not report.skipped
    assert sum(ex.num_instances for ex in examples) == persons


def test_vikram_has_a_fixed_disjoint_train_val_split_shipped_in_the_package():
    from portrait_garden.data.readers import list_portrait_folder

    root = os.path.join(SHARED_DATA, "portraits", "vikram")
    train = {i for i, _, _ in list_portrait_folder(root, "train")}
    val = {i for i, _, _ in list_portrait_folder(root, "val")}
    assert len(val) == 50 and len(train) == 182 and not train & val
    assert train | val == {i for i, _, _ in list_portrait_folder(root)}
