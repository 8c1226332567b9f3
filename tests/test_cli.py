import json
import os

from portrait_garden.cli import main
from portrait_garden.configs import load_config
from portrait_garden.models import build_segmenter
from tests.conftest import RECIPES_DIR

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


def test_demo_without_a_shipped_model_says_so_and_fails(tmp_path, capsys):
    assert main(["demo", "--model", str(tmp_path / "no_model")]) == 1
    assert "no trained model is shipped yet" in capsys.readouterr().err


def test_data_inspect_renders_a_grid_and_prints_counts(tmp_path, capsys):
    from tests.data.conftest import write_coco_set

    write_coco_set(tmp_path / "coco")
    out = tmp_path / "grid.png"
    assert main(["data", "inspect", "--dataset", str(tmp_path / "coco"), "--out", str(out),
                 "--count", "3", "--size", "64"]) == 0
    text = capsys.readouterr().out
    assert "images_with_2plus_persons    1" in text and "persons                      3" in text
    assert out.exists() and out.stat().st_size > 5000
    from PIL import Image

    assert Image.open(out).size[0] > 300


def test_data_inspect_unknown_dataset(tmp_path, capsys):
    assert main(["data", "inspect", "--dataset", "nope", "--data-dir", str(tmp_path)]) == 2
    assert "neither a dataset folder nor a set" in capsys.readouterr().err
