"""Loading saved portrait_garden models."""

import os

import tensorflow_model_optimization as tfmot
import tf_keras as keras

from portrait_garden.optimize.qat import quantize_scope


def load_model(path, compile=False):
    """Loads a model saved with `model.save` (`.keras`, `.h5` or SavedModel folder).

    The package's layers are registered on import, so plain
    `tf_keras.models.load_model` works too for float models; this function also
    opens QAT and pruning models (it enters the tfmot scopes).

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
    with quantize_scope(), tfmot.sparsity.keras.prune_scope():
        try:
            return keras.models.load_model(path, compile=compile)
        except (OSError, ValueError) as e:
            raise ValueError(f"Could not load a Keras model from {path}: {e}") from e
