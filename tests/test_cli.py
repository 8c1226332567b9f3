import json
import os

import numpy as np
import pytest

from portrait_garden.cli import main
from portrait_garden.configs import load_config
from portrait_garden.models import build_segmenter
from tests.conftest import RECIPES_DIR, FakePredictor

RECIPE = os.path.join(RECIPES_DIR, "portrait_seg_mbv2_256.yaml")


def test_info_prints_the_model_figures(capsys):
    assert main(["info", "--config", RECIPE, "--set", "model.width_multiplier=0.5"]) == 0
    out = capsys.readouterr().out
    params = build_segmenter(load_config(RECIPE, ["model.width_multiplier=0.5"])).count_params()
    assert f"{params:,}" in out
    assert "FLOPs" in out and "mask" in out and "boundary" in out


def test_info_json(capsys):
    assert main(["info", "--config", RECIPE, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["params"] <= 2_500_000 and summary["flops"] <= 1.0e9
    assert summary["outputs"]["mask"] == [None, 256, 256, 1]


def test_info_bad_config_exits_2_with_the_key(tmp_path, capsys):
    assert main(["info", "--config", RECIPE, "--set", "model.widht=1"]) == 2
    assert "unknown key 'model.widht'" in capsys.readouterr().err
    assert main(["info", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_demo_and_segment_with_a_missing_model_fail_clearly(tmp_path, capsys):
    assert main(["demo", "--model", str(tmp_path / "no_model")]) == 2
    assert "No model at" in capsys.readouterr().err
    assert main(["segment", str(tmp_path), "--out", str(tmp_path / "o"), "--model",
                 str(tmp_path / "no_model")]) == 2
    assert "No model at" in capsys.readouterr().err


def test_data_inspect_renders_a_grid_and_prints_counts(tmp_path, capsys):
    from tests.data.conftest import write_coco_set

    write_coco_set(tmp_path / "coco")
    out = tmp_path / "grid.png"
    assert main(["data", "inspect", "--dataset", str(tmp_path / "coco"), "--out", str(out),
                 "--count", "3", "--size", "64"]) == 0
    text = capsys.readouterr().out
    assert "images_with_2plus_persons    1" in text and "persons                      3" in text
    from PIL import Image

    from tests.conftest import dominant_fraction

    assert Image.open(out).size[0] > 300
    assert dominant_fraction(str(out), 0) > 0.002   # the persons, tinted on grey photos


def test_data_inspect_unknown_dataset(tmp_path, capsys):
    assert main(["data", "inspect", "--dataset", "nope", "--data-dir", str(tmp_path)]) == 2
    assert "neither a dataset folder nor a set" in capsys.readouterr().err


def test_segment_writes_overlay_masks_json_and_effects(tmp_path):
    from PIL import Image

    from portrait_garden.segment import segment_photos

    photo = tmp_path / "p.jpg"
    Image.fromarray(np.full((60, 80, 3), 120, np.uint8)).save(photo)
    out = tmp_path / "out"
    summaries = segment_photos(FakePredictor(2), [str(photo)], str(out), effect="replace",
                               background=np.zeros((10, 10, 3), np.uint8),
                               progress=False).summaries
    assert summaries[0]["num_persons"] == 2
    for name in ("p_overlay.png", "p_person1.png", "p_person2.png", "p.json", "p_replace.png"):
        assert (out / name).exists(), name
    mask = np.asarray(Image.open(out / "p_person2.png"))
    assert mask[30, 60] == 255 and mask[30, 10] == 0
    record = json.loads((out / "p.json").read_text())
    assert record["persons"][0]["mask_rle"]["size"] == [60, 80]
    replaced = np.asarray(Image.open(out / "p_replace.png"))
    assert replaced[0, 0].sum() == 0 and replaced[50, 10].sum() > 0


def test_segment_reports_no_person_and_bad_files(tmp_path):
    from PIL import Image

    from portrait_garden.data import DataError
    from portrait_garden.segment import segment_photos

    Image.fromarray(np.full((20, 20, 3), 9, np.uint8)).save(tmp_path / "empty.png")
    summaries = segment_photos(FakePredictor(0), [str(tmp_path / "empty.png")],
                               str(tmp_path / "o"), progress=False).summaries
    assert summaries[0]["result"] == "no person found"
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(DataError, match="broken.jpg: cannot read"):
        segment_photos(FakePredictor(1), [str(tmp_path / "broken.jpg")], str(tmp_path / "o"))


@pytest.mark.parametrize("command", [
    ["train", "--recipe", RECIPE],
    ["export", "--model", "unused.keras"],
    ["demo"],
    ["benchmark", "--no-peer", "--model", "unused.tflite"],
])
def test_out_pointing_at_a_file_fails_before_any_work(command, tmp_path, capsys):
    existing = tmp_path / "results.txt"
    existing.write_text("keep me")
    assert main([*command, "--out", str(existing)]) == 2
    assert "is an existing file, not a folder" in capsys.readouterr().err
    assert existing.read_text() == "keep me"


def test_int8_calibration_photos_take_an_equal_share_of_each_set(tmp_path):
    """Group photos (coco128) calibrate the int8 detector as much as portraits do, however
    many more portraits there are."""
    from portrait_garden.cli import _representative_photos
    from tests.data.conftest import write_coco_set, write_portrait_folder

    write_portrait_folder(tmp_path / "portraits" / "pfcn", n=24, size=(48, 64))
    write_coco_set(tmp_path / "instances" / "coco128")          # 3 photos, 40 x 60
    photos = _representative_photos(str(tmp_path), 4)
    shapes = [p.shape[:2] for p in photos]
    assert len(photos) == 4 and shapes.count((40, 60)) == 2 and shapes.count((48, 64)) == 2
    train = (tmp_path / "portraits" / "pfcn" / "train.txt").read_text().split()
    assert len(_representative_photos(str(tmp_path), 100)) == 3 + len(train)   # all there is


def test_group_calibration_is_coco128_photos_and_composites_of_its_persons(tmp_path):
    """`export --calibration groups`: half real coco128 photos, half composites made from
    its persons; without coco128 the error names the set and the fallback."""
    from portrait_garden.cli import _representative_photos
    from portrait_garden.data import DataError
    from tests.data.conftest import write_coco_set

    with pytest.raises(DataError, match="--calibration groups needs coco128.*--calibration mixed"):
        _representative_photos(str(tmp_path), 4, calibration="groups")
    write_coco_set(tmp_path / "instances" / "coco128")          # 3 photos, 40 x 60
    photos = _representative_photos(str(tmp_path), 6, calibration="groups")
    assert len(photos) == 6 and all(p.dtype == np.uint8 and p.ndim == 3 for p in photos)
    real = {p.tobytes() for p in photos[:3]}
    assert len(real) == 3                                       # three distinct real photos
    assert not real & {p.tobytes() for p in photos[3:]}         # the rest are new images
    with pytest.raises(ValueError, match=r"choose one of \['mixed', 'groups'\]"):
        _representative_photos(str(tmp_path), 4, calibration="portraits")
