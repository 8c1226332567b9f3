"""Shipped models by name: listed with their figures, loaded ready to segment, usable as
`--model`, and a wrong name lists the right ones."""

import json

import pytest

import portrait_garden as pg
from portrait_garden import cli
from portrait_garden.presets import DEFAULT_PRESET, PRESETS, preset_dir, resolve_model


def test_every_preset_is_listed_with_its_files():
    rows = pg.list_presets()
    assert [r["name"] for r in rows] == sorted(PRESETS)
    assert [r["name"] for r in rows if r["default"]] == [DEFAULT_PRESET]
    for r in rows:
        assert r["available"], r["folder"]
        assert {"model.keras", "model_float16.tflite", "model_int8.tflite"} <= set(r["sizes"])
        assert r["sizes"]["model_int8.tflite"] < r["sizes"]["model_float16.tflite"]


def test_unknown_preset_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown preset 'tiny'. Presets: " +
                       ", ".join(sorted(PRESETS))):
        pg.from_preset("tiny")


def test_from_preset_segments_a_photo_and_takes_serving_overrides():
    from skimage import data

    segmenter = pg.from_preset(DEFAULT_PRESET, grouping="box")
    assert segmenter.config.grouping == "box"
    out = segmenter.segment(data.astronaut())
    assert int(out["num_instances"]) >= 1
    assert out["instance_labels"].shape == (512, 512)
    with pytest.raises(ValueError, match="Unknown serving settings \\['colour'\\]"):
        pg.from_preset(DEFAULT_PRESET, colour="red")


def test_model_argument_takes_preset_names(tmp_path, monkeypatch):
    assert resolve_model(None) == preset_dir(DEFAULT_PRESET)
    for name in PRESETS:
        assert resolve_model(name) == preset_dir(name)
    existing = tmp_path / "model.tflite"
    existing.write_bytes(b"x")
    assert resolve_model(str(existing)) == str(existing)
    with pytest.raises(FileNotFoundError, match="No model at some/path.tflite"):
        resolve_model("some/path.tflite")
    used = []

    class Recorder:
        def __init__(self, path, grouping="affinity", **kwargs):
            used.append(path)
            raise SystemExit(0)

    monkeypatch.setattr("portrait_garden.inference.Predictor", Recorder)
    name = sorted(PRESETS)[0]
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--model", name, "--dataset", str(tmp_path)])
    assert used == [preset_dir(name)]


def test_presets_command_prints_every_preset(capsys):
    assert cli.main(["presets"]) == 0
    text = capsys.readouterr().out
    for name in PRESETS:
        assert name in text
    assert "(default)" in text
    assert cli.main(["presets", "--json"]) == 0
    assert {r["name"] for r in json.loads(capsys.readouterr().out)} == set(PRESETS)
