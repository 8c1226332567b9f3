import glob
import os

import pytest

from portrait_garden.configs import (
    ConfigError,
    ExperimentConfig,
    load_config,
    save_config,
)
from tests.conftest import RECIPES_DIR


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_base_inheritance_and_overrides(tmp_path):
    base = _write(tmp_path / "base.yaml", "model:\n  width_multiplier: 0.75\n  "
                                          "decoder_filters: 32\n")
    child = _write(tmp_path / "child.yaml", "base: base.yaml\nmodel:\n  decoder_filters: 48\n")
    config = load_config(child, ["model.image_size=[224, 160]", "loss.side_weight=0.2"])
    assert config.model.width_multiplier == 0.75      # from base
    assert config.model.decoder_filters == 48         # child wins
    assert config.model.image_size == (224, 160)      # override, as a tuple
    assert config.loss.side_weight == 0.2
    assert config.model.categorical_attention is True  # schema default
    # An empty value is the empty string (how recipes' headers say to drop init_from).
    assert load_config(None, ["train.init_from="]).train.init_from == ""
    optimized = load_config(None, ["optimize.quantize=true", "optimize.prune_sparsity=0.5"])
    assert optimized.optimize.quantize and optimized.optimize.prune_sparsity == 0.5
    assert os.path.basename(base) == "base.yaml"


@pytest.mark.parametrize("text, message", [
    ("model:\n  widht: 1.0\n", r"unknown key 'model\.widht'"),
    ("modle:\n  width_multiplier: 1.0\n", "unknown key 'modle'"),
    ("model:\n  decoder_filters: 3.5\n", "'model.decoder_filters' must be an integer"),
    ("model:\n  categorical_attention: 1\n", "must be true or false"),
    ("model:\n  image_size: [256]\n", "list of 2 values"),
    ("model: 3\n", "'model' must be a mapping"),
    ("- a\n- b\n", "must be a mapping of sections"),
    ("model: [\n", "not valid YAML"),
    ("base: missing.yaml\n", "Config file not found"),
    ("optimize:\n  quantise: true\n", "unknown key 'optimize.quantise'"),
    ("optimize:\n  prune_sparsity: half\n", "'optimize.prune_sparsity' must be a number"),
])
def test_bad_configs_name_key_and_file(tmp_path, text, message):
    path = _write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert "bad.yaml" in str(info.value) or "missing.yaml" in str(info.value)


def test_bad_overrides():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, ["model.width_multiplier"])
    with pytest.raises(ConfigError, match="unknown key 'model.nope'"):
        load_config(None, ["model.nope=1"])


def test_exponent_numbers_without_a_dot_are_numbers(tmp_path):
    # PyYAML reads 1e-5 as a string; a learning rate written so must not be refused.
    config = load_config(None, ["train.learning_rate=1e-5"])
    assert config.train.learning_rate == pytest.approx(1e-5)
    recipe = _write(tmp_path / "r.yaml", "train:\n  learning_rate: 3E-4\n")
    assert load_config(recipe).train.learning_rate == pytest.approx(3e-4)
    with pytest.raises(ConfigError, match="'train.learning_rate' must be a number"):
        load_config(None, ["train.learning_rate=1e-5x"])
    with pytest.raises(ConfigError, match="must be an integer"):
        load_config(None, ["train.epochs=1e3"])     # integers stay integers


def test_base_loop_is_detected(tmp_path):
    _write(tmp_path / "a.yaml", "base: b.yaml\n")
    _write(tmp_path / "b.yaml", "base: a.yaml\n")
    with pytest.raises(ConfigError, match="loops"):
        load_config(str(tmp_path / "a.yaml"))


def test_resolved_config_round_trips_through_yaml(tmp_path):
    config = load_config(None, ["model.width_multiplier=0.5"])
    path = str(tmp_path / "resolved.yaml")
    save_config(config, path)
    assert load_config(path) == config
    assert load_config(None) == ExperimentConfig()


def test_every_recipe_loads():
    recipes = sorted(glob.glob(os.path.join(RECIPES_DIR, "*.yaml")))
    assert recipes, "no recipes found"
    for recipe in recipes:
        assert isinstance(load_config(recipe), ExperimentConfig), recipe


@pytest.mark.parametrize("override, message", [
    ("train.learning_rate=-0.001", r"train.learning_rate must be > 0, got -0.001"),
    ("train.batch_size=0", r"train.batch_size must be >= 1, got 0"),
    ("train.steps_per_epoch=0", r"train.steps_per_epoch must be >= 1"),
    ("optimize.prune_sparsity=1.0", r"optimize.prune_sparsity must be in \[0, 1\)"),
    ("model.width_multiplier=0", r"model.width_multiplier must be > 0"),
    ("data.train=[{path: pfcn, weight: 0}]", r"data.train\[0\].weight must be > 0"),
    ("data.augment_preset=heavy", r"data.augment_preset must be one of \['light', 'none', "),
    ("serving.score_threshold=1.5", r"serving.score_threshold must be in \[0, 1\)"),
    ("serving.max_detections=0", r"serving.max_detections must be >= 1"),
    ("serving.resize_taps=1", r"serving.resize_taps must be >= 2"),
    ("serving.refine_radius=-1", r"serving.refine_radius must be >= 0 \(0: bilinear\)"),
    ("serving.refine_eps=0", r"serving.refine_eps must be > 0"),
    ("serving.refine_cell=0", r"serving.refine_cell must be >= 1"),
    ("serving.grouping=boxes", r"serving.grouping must be 'affinity' or 'box'"),
    ("serving.grid=[16]", r"'serving.grid' must be a list of 2 values"),
])
def test_out_of_range_numbers_are_refused_with_key_and_file(override, message):
    recipe = os.path.join(RECIPES_DIR, "cpu_quick.yaml")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(recipe, [override])
    assert "cpu_quick.yaml" in str(info.value)


def test_export_reads_the_serving_section_beside_the_model(tmp_path):
    """The recipe's `serving:` (saved by the trainer as config.yaml in the run folder)
    is what `portrait-garden export` bakes in; without one, the defaults."""
    from portrait_garden.cli import _recipe_serving
    from portrait_garden.configs import ServingConfig, save_config

    config = load_config(os.path.join(RECIPES_DIR, "cpu_quick.yaml"),
                         ["serving.score_threshold=0.3", "serving.max_detections=16"])
    save_config(config, str(tmp_path / "config.yaml"))
    serving, source = _recipe_serving(str(tmp_path / "best.keras"))
    assert (serving.score_threshold, serving.max_detections) == (0.3, 16)
    assert "config.yaml" in source
    (tmp_path / "other").mkdir()
    assert _recipe_serving(str(tmp_path / "other" / "m.keras"))[0] == ServingConfig()
