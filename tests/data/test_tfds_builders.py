import numpy as np

from portrait_garden.data.tfds_builders import prepare


def test_portrait_folder_builder_prepares_offline_with_splits(portrait_folder, tmp_path):
    builder = prepare(str(portrait_folder), data_dir=str(tmp_path / "tfds"))
    assert set(builder.info.splits) == {"train", "val"}
    assert builder.info.splits["train"].num_examples == 3
    ex = next(iter(builder.as_dataset(split="val")))
    assert ex["image"].shape == (48, 64, 3)
    assert set(np.unique(ex["person_mask"].numpy())) == {0, 1}
    assert ex["instance_masks"].shape[0] == 1 and ex["boxes"].shape == (1, 4)


def test_coco_builder_keeps_instances_boxes_and_crowd(coco_set, tmp_path):
    builder = prepare(str(coco_set), data_dir=str(tmp_path / "tfds"))
    examples = {e["id"].numpy().decode(): e for e in builder.as_dataset(split="train")}
    a, b = examples["a.png"], examples["b.png"]
    assert a["instance_masks"].shape == (2, 40, 60, 1)
    np.testing.assert_allclose(a["boxes"].numpy()[1], [10 / 40, 25 / 60, 30 / 40, 45 / 60],
                               atol=1e-6)
    assert 255 in np.unique(b["person_mask"].numpy())          # crowd: ignore, not background
    assert examples["empty.png"]["instance_masks"].shape[0] == 0
    # Prepared once: a second call reuses the files.
    again = prepare(str(coco_set), data_dir=str(tmp_path / "tfds"))
    assert again.info.splits["train"].num_examples == 3
