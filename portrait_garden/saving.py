"""Loading saved portrait_garden models."""

import json
import os
import zipfile

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from portrait_garden.optimize.qat import quantize_scope


def load_model(path, compile=False):
    """Loads a model saved with `model.save` (`.keras`, `.h5` or SavedModel folder).

    Picks the Keras by the file: a `.keras` archive saved by Keras 3 (e.g. a
    preset's `model.keras3.keras`) loads as a Keras 3 model
    (`portrait_garden.keras3.PortraitSegmenter`), everything else with tf_keras.
    The package's layers are registered on import, so plain
    `tf_keras.models.load_model` / `keras.models.load_model` work too for float
    models; this function also opens QAT and pruning models (it enters the
    tfmot scopes).

    Args:
      path: str, a `.keras`/`.h5` file or a SavedModel directory.
      compile: bool, restore the training configuration. Defaults to False.

    Returns:
      The `keras.Model`.

    Raises:
      FileNotFoundError: nothing at `path`.
      ValueError: `path` exists but is not a saved Keras model.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No saved model at {path}. Pass a .keras file or a SavedModel folder "
            "written by model.save().")
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise ValueError(f"{path} is a folder without saved_model.pb: not a SavedModel.")
    if os.path.isfile(path) and _keras_version(path).startswith("3."):
        from portrait_garden import keras3

        _check_model_file(path, keras3.keras.saving.get_registered_object)
        try:
            return keras3.load_model(path, compile=compile)
        except (OSError, ValueError, TypeError) as e:
            raise ValueError(f"Could not load a Keras 3 model from {path}: {e}") from e
    with quantize_scope(), tfmot.sparsity.keras.prune_scope():
        if os.path.isfile(path):
            _check_model_file(path)       # inside the scopes: tfmot's classes count as known
        try:
            return keras.models.load_model(path, compile=compile)
        except (OSError, ValueError, TypeError) as e:
            raise ValueError(f"Could not load a Keras model from {path}: {e}") from e


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_KNOWN_PACKAGES = ("keras", "tf_keras", "portrait_garden", "tensorflow_model_optimization",
                   "tfmot")


def _keras_version(path):
    """The `keras_version` in a `.keras` archive's metadata ("" if none)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    except (KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError):
        return ""


def _check_model_file(path, registered=keras.saving.get_registered_object):
    """Explains, before Keras tries, why a model file cannot be opened: not a Keras
    archive or truncated, or using layers of another package (looked up with
    `registered`, the loading Keras's registry)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head == _HDF5_SIGNATURE:
        return                                    # legacy .h5: Keras reports its own errors
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is truncated or not a Keras archive (a .keras file is a zip with "
            "config.json and model.weights.h5; this one has no zip directory). Copy or "
            "download it again, or re-save the model with model.save('model.keras').")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
            config = json.loads(archive.read("config.json")) if "config.json" in names else None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ValueError(f"{path} is a damaged Keras archive ({e}). Copy or download it "
                         "again.") from None
    if bad is not None:
        raise ValueError(f"{path} is a damaged Keras archive ({bad} fails its checksum). "
                         "Copy or download it again.")
    if config is None:
        raise ValueError(f"{path} is a zip but not a Keras archive (no config.json).")
    foreign = sorted(_foreign_classes(config, registered))
    if foreign:
        raise ValueError(
            f"{path} uses layers from other packages: {', '.join(foreign)}. "
            "portrait-garden can only open its own models and standard Keras layers; "
            "import the package that defines them before loading, or pass a model "
            "trained with portrait-garden.")


def _foreign_classes(config, registered):
    """Every serialized object registered by a package that is not loaded here
    (`package>ClassName`) or from a module outside Keras, tfmot and portrait_garden."""
    registered_lookup = registered
    found = set()

    def visit(node):
        if isinstance(node, dict):
            name, registered = node.get("class_name"), node.get("registered_name")
            module = node.get("module") or ""
            if isinstance(name, str) and "config" in node:
                if isinstance(registered, str) and ">" in registered:
                    if registered_lookup(registered) is None:
                        found.add(registered)
                elif module and module.split(".")[0] not in _KNOWN_PACKAGES:
                    found.add(f"{module}.{name}")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(config)
    return found


def check_portrait_model(model, path):
    """Raises `ValueError` unless `model` is a portrait-garden network (a dict of
    outputs with `mask`), e.g. when `--model` names another tf_keras model."""
    try:
        output = model.output
    except AttributeError:      # a Keras 3 model that was never called has no output
        output = None
    outputs = output if isinstance(output, dict) else None
    if outputs is None or "mask" not in outputs:
        got = sorted(outputs) if outputs is not None else \
            [str(o.shape) for o in getattr(model, "outputs", None) or []]
        raise ValueError(
            f"{path} is a Keras model but not a portrait-garden network: its outputs are "
            f"{got}, not a dict with 'mask' (and 'center_heatmap' for the instance "
            "model). Train one with portrait-garden train, or pass a shipped model "
            "(saved_models/*/model.keras).")
    return model


def as_tf_keras(model):
    """`model` as a tf_keras model: a Keras 3 `PortraitSegmenter` is converted
    (`portrait_garden.keras3.to_tf_keras`), anything else is returned as is. Export,
    QAT and pruning work on tf_keras models."""
    from portrait_garden import keras3

    return keras3.to_tf_keras(model) if isinstance(model, keras3.PortraitSegmenter) else model


def load_portrait_model(path):
    """`load_model`, then `check_portrait_model`, as a tf_keras model (a Keras 3
    file is converted): for commands whose `--model` must be a portrait-garden
    network (export, segment, evaluate)."""
    return as_tf_keras(check_portrait_model(load_model(path), path))
