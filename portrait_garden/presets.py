"""Shipped models by name (Model Garden / keras-hub style presets).

A preset is a folder of `saved_models/` in the repository: `model.keras` (the
tf_keras network), `export.json` (serving settings), the `.tflite` files,
`MODEL_CARD.md` and `preset.json` (its evaluation and benchmark figures, written
by `tools/readme_results.py`).

Example:
>>> import portrait_garden as pg
>>> [p["name"] for p in pg.list_presets()]
['portrait_instance_mbv2_100_256', 'portrait_instance_mbv2_256']
>>> segmenter = pg.from_preset()             # the default: portrait_instance_mbv2_100_256
>>> out = segmenter.segment(photo)          # uint8 [H, W, 3] -> instance_labels, ...
"""

import dataclasses
import json
import os

SAVED_MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "saved_models")
"""Where the presets live (the repository's `saved_models/`; install with `pip install -e`)."""

PRESETS = {
    "portrait_instance_mbv2_256": "fast: MobileNetV2 0.5 distilled from the accurate preset, "
                                  "256x256",
    "portrait_instance_mbv2_100_256": "accurate: MobileNetV2 1.0 from ImageNet, 256x256",
}
"""Preset name -> one-line description."""

DEFAULT_PRESET = "portrait_instance_mbv2_100_256"
"""What `segment`, `demo` and `from_preset()` use when no model is named: the accurate
preset. It is better than the fast one on portraits and on people in the wild (PFCN val
and vikram val, README Results); `segment` and `demo` work on photos, where its extra
~10 ms per photo on one CPU thread matters less than the masks. Apps that run on every
video frame should pick `portrait_instance_mbv2_256`."""


def preset_dir(name):
    """The folder of preset `name`.

    Raises:
      ValueError: unknown name (the message lists the presets).
      FileNotFoundError: a known preset whose folder is missing (not a repository
        install).
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}. Presets: {', '.join(sorted(PRESETS))} "
                         "(portrait-garden presets lists them with their figures).")
    folder = os.path.join(SAVED_MODELS_DIR, name)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Preset {name!r} is not at {folder}. Presets ship in saved_models/ of the "
            "repository: install with pip install -e . from a clone.")
    return folder


def _read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def list_presets():
    """Every preset with its description, files' sizes and recorded figures.

    Returns:
      list of dicts, sorted by name: `name`, `description`, `default`, `folder`,
      `available`, `sizes` (file -> bytes of the `.keras` and `.tflite` files) and
      `figures` (the preset's `preset.json`: IoU per evaluation set, latency in ms
      with the CPU and MediaPipe's latency from the same benchmark run; `{}` if
      not recorded).
    """
    rows = []
    for name in sorted(PRESETS):
        folder = os.path.join(SAVED_MODELS_DIR, name)
        sizes = {}
        if os.path.isdir(folder):
            sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))
                     if f.endswith((".keras", ".tflite"))}
        rows.append({"name": name, "description": PRESETS[name],
                     "default": name == DEFAULT_PRESET, "folder": folder,
                     "available": os.path.isdir(folder), "sizes": sizes,
                     "figures": _read_json(os.path.join(folder, "preset.json"))})
    return rows


def from_preset(name=DEFAULT_PRESET, **serving):
    """The end-to-end instance segmenter of a preset, ready for `.segment(photo)`.

    Args:
      name: a preset name (`list_presets()`); defaults to `DEFAULT_PRESET`.
      **serving: `ServingConfig` fields that replace the preset's exported
        settings (e.g. `grouping="box"`, `score_threshold=0.3`).

    Returns:
      `portrait_garden.models.InstanceSegmenter` (its Keras network is `.network`).
    """
    from portrait_garden.models.instance_segmenter import InstanceSegmenter, ServingConfig
    from portrait_garden.saving import load_portrait_model

    folder = preset_dir(name)
    settings = _read_json(os.path.join(folder, "export.json")).get("serving_config", {})
    if "grid" in settings:
        settings["grid"] = tuple(settings["grid"])
    known = {f.name for f in dataclasses.fields(ServingConfig)}
    unknown = sorted(set(serving) - known)
    if unknown:
        raise ValueError(f"Unknown serving settings {unknown}; ServingConfig has "
                         f"{sorted(known)}.")
    config = ServingConfig(**{**{k: v for k, v in settings.items() if k in known}, **serving})
    model = load_portrait_model(os.path.join(folder, "model.keras"))
    return InstanceSegmenter(model, config)


def resolve_model(model):
    """A `--model` argument: a preset name becomes its folder, None the default
    preset's folder; a path must exist.

    Raises:
      FileNotFoundError: nothing at the path (the message says what may be passed).
    """
    if model is None:
        return preset_dir(DEFAULT_PRESET)
    if model in PRESETS and not os.path.exists(model):
        return preset_dir(model)
    if not os.path.exists(model):
        raise FileNotFoundError(
            f"No model at {model}. Pass a .keras file, an export folder, a .tflite file or a "
            "preset name (portrait-garden presets lists them).")
    return model
