"""portrait_garden: portrait instance segmentation for mobile devices (Keras / TFLite).

Implements Zhu et al., "Portrait instance segmentation for mobile devices",
ICME 2019, with `tf_keras` (Keras 2) so tensorflow-model-optimization and the
TFLite converter accept every model.

Example:
>>> import portrait_garden as pg
>>> model = pg.models.PortraitSegmenter(image_size=(256, 256))
>>> model.save("segmenter.keras"); same = pg.load_model("segmenter.keras")
>>> segmenter = pg.from_preset("portrait_instance_mbv2_256")   # a shipped model
>>> out = segmenter.segment(photo)       # uint8 [H, W, 3] -> one label per person
"""

from portrait_garden import (
    backbones,
    configs,
    data,
    evaluate,
    export,
    heads,
    inference,
    keras3,
    layers,
    losses,
    models,
    ops,
    optimize,
)
from portrait_garden.models import InstanceSegmenter, PortraitSegmenter, build_segmenter
from portrait_garden.presets import from_preset, list_presets
from portrait_garden.saving import load_model

__version__ = "0.1.0"

__all__ = [
    "InstanceSegmenter",
    "PortraitSegmenter",
    "backbones",
    "build_segmenter",
    "configs",
    "data",
    "evaluate",
    "export",
    "from_preset",
    "heads",
    "inference",
    "keras3",
    "layers",
    "list_presets",
    "load_model",
    "losses",
    "models",
    "ops",
    "optimize",
]
