"""Strict YAML loading of recipes: `base:` inheritance, overrides, type checks."""

import dataclasses
import os
import re
import typing

import yaml

from portrait_garden.configs.schema import ExperimentConfig


class ConfigError(ValueError):
    """A recipe or override that does not fit the schema; the message names key and file."""


def _deep_merge(base, override):
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_EXPONENT_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")
"""A number in exponent notation, which PyYAML (YAML 1.1) reads as a string unless its
mantissa has a dot: `1e-5` is a string, `1.0e-5` a float."""


def _read_yaml(path, seen=()):
    path = os.path.abspath(path)
    if path in seen:
        raise ConfigError(f"{path}: 'base:' chain loops back to this file.")
    if not os.path.isfile(path):
        raise ConfigError(f"Config file not found: {path}. Pass the path of a recipe YAML, "
                          "e.g. recipes/portrait_seg_mbv2_256.yaml.")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of sections, got "
                          f"{type(data).__name__}.")
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{path}: 'base' must be a path string, got {base!r}.")
    base_path = os.path.join(os.path.dirname(path), base)
    return _deep_merge(_read_yaml(base_path, seen + (path,)), data)


def _convert(value, type_, key, source):
    origin = typing.get_origin(type_)
    where = f"{source}: key '{key}'"
    if dataclasses.is_dataclass(type_):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {value!r}.")
        return _build(type_, value, source, prefix=f"{key}.")
    if origin in (tuple, typing.Tuple) and typing.get_args(type_)[-1] is Ellipsis:
        item_type = typing.get_args(type_)[0]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}.")
        return tuple(_convert(v, item_type, f"{key}[{i}]", source)
                     for i, v in enumerate(value))
    if origin in (tuple, typing.Tuple):
        args = typing.get_args(type_)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where} must be a list of {len(args)} values, got {value!r}.")
        return tuple(_convert(v, t, key, source) for v, t in zip(value, args))
    if type_ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}.")
        return value
    if type_ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}.")
        return value
    if type_ is float:
        if isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value.strip()):
            # YAML 1.1 reads 1e-5 (no dot in the mantissa) as a string.
            return float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}.")
        return float(value)
    if type_ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}.")
        return value
    raise TypeError(f"Unsupported schema type {type_} for {key}.")


def _build(cls, data, source, prefix=""):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key '{prefix}{unknown[0]}'. Valid keys under "
            f"'{prefix.rstrip('.') or '<top level>'}': {sorted(fields)}.")
    kwargs = {name: _convert(value, hints[name], prefix + name, source)
              for name, value in data.items()}
    return cls(**kwargs)


def parse_override(text):
    """Parses `section.key=value` (value in YAML syntax) into a nested dict."""
    if "=" not in text:
        raise ConfigError(
            f"override {text!r}: expected KEY=VALUE, e.g. model.width_multiplier=0.5.")
    key, raw = text.split("=", 1)
    try:
        # `key=` means the empty string (e.g. --set train.init_from=), not null.
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as e:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {e}") from None
    nested = value
    for part in reversed(key.strip().split(".")):
        if not part:
            raise ConfigError(f"override {text!r}: empty key segment.")
        nested = {part: nested}
    return nested


def load_config(path=None, overrides=()):
    """Loads a recipe into an `ExperimentConfig`, strictly.

    Args:
      path: str or None, a recipe YAML (may name a `base:` YAML, relative to
        itself). None: schema defaults.
      overrides: iterable of `"section.key=value"` strings applied last.

    Returns:
      `ExperimentConfig`.

    Raises:
      ConfigError: missing file, invalid YAML, unknown key or wrong type; the
        message names the key and the file.
    """
    data = _read_yaml(path) if path is not None else {}
    source = path or "<defaults>"
    overrides = list(overrides)
    for text in overrides:
        data = _deep_merge(data, parse_override(text))
    if overrides:
        source = f"{source} (with overrides {overrides})"
    config = _build(ExperimentConfig, data, source)
    check_ranges(config, source)
    return config


_RANGES = (
    # (what the value must be, test, keys)
    ("> 0", lambda v: v > 0, ("model.width_multiplier", "data.composite_weight",
                              "train.learning_rate", "distill.temperature",
                              "serving.refine_eps")),
    (">= 0", lambda v: v >= 0, ("loss.ce_weight", "loss.dice_weight", "loss.side_weight",
                                "loss.boundary_weight", "loss.heatmap_weight",
                                "loss.size_weight", "data.composites", "train.warmup_steps",
                                "optimize.prune_begin_step", "optimize.prune_end_step",
                                "distill.mask_weight", "distill.heatmap_weight")),
    (">= 1", lambda v: v >= 1, ("model.decoder_filters", "loss.boundary_width",
                                "train.batch_size", "train.epochs", "train.steps_per_epoch",
                                "optimize.prune_frequency")),
    (">= 32", lambda v: v >= 32, ("data.max_side",)),
    ("in [0, 1)", lambda v: 0 <= v < 1, ("model.bn_momentum", "optimize.prune_sparsity",
                                         "serving.score_threshold", "serving.nms_iou",
                                         "serving.mask_threshold",
                                         "serving.priority_score")),
    (">= 1 (slots)", lambda v: v >= 1, ("serving.max_detections", "serving.group_scale",
                                        "serving.slic_iterations",
                                        "serving.propagation_iterations",
                                        "serving.refine_cell")),
    (">= 2 (taps per axis)", lambda v: v >= 2, ("serving.resize_taps",)),
    (">= 0 (0: bilinear)", lambda v: v >= 0, ("serving.refine_radius",)),
    ("in [0, 1]", lambda v: 0 <= v <= 1, ("data.composite_rows",)),
)


def check_ranges(config, source="<config>"):
    """Raises `ConfigError` naming the key, value and file for out-of-range numbers
    (a negative learning rate, a zero batch size, ...), which would otherwise train
    silently wrong or fail deep inside TensorFlow."""
    for what, ok, keys in _RANGES:
        for key in keys:
            section, name = key.split(".")
            value = getattr(getattr(config, section), name)
            if not ok(value):
                raise ConfigError(f"{source}: {key} must be {what}, got {value!r}.")
    if config.serving.grouping not in ("affinity", "box"):
        raise ConfigError(f"{source}: serving.grouping must be 'affinity' or 'box', got "
                          f"{config.serving.grouping!r}.")
    from portrait_garden.train.distribution import DISTRIBUTIONS  # lazy: imports TF
    if config.train.distribution not in DISTRIBUTIONS:
        raise ConfigError(f"{source}: train.distribution must be one of "
                          f"{list(DISTRIBUTIONS)}, got {config.train.distribution!r}.")
    from portrait_garden.data.augment import AUGMENT_PRESETS  # lazy: imports TF
    if config.data.augment_preset not in AUGMENT_PRESETS:
        raise ConfigError(f"{source}: data.augment_preset must be one of "
                          f"{sorted(AUGMENT_PRESETS)}, got {config.data.augment_preset!r}.")
    if config.data.unlabelled and not config.distill.teacher:
        raise ConfigError(f"{source}: data.unlabelled needs distill.teacher (only a teacher's "
                          "targets train on photos without labels); set distill.teacher to a "
                          "saved model or drop data.unlabelled.")
    for group in ("train", "val", "unlabelled"):
        for i, spec in enumerate(getattr(config.data, group)):
            if spec.weight <= 0:
                raise ConfigError(f"{source}: data.{group}[{i}].weight must be > 0, got "
                                  f"{spec.weight!r} (drop the dataset instead).")


def config_to_dict(config):
    """A plain, YAML-ready dict (tuples become lists)."""
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v
    return plain(dataclasses.asdict(config))


def save_config(config, path):
    """Writes the resolved config as YAML (next to a checkpoint or export)."""
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config_to_dict(config), f, sort_keys=False)
