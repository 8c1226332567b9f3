"""portrait_garden: portrait instance segmentation for mobile devices (Keras / TFLite).

Implements Zhu et al., "Portrait instance segmentation for mobile devices",
ICME 2019, with `tf_keras` (Keras 2) so tensorflow-model-optimization and the
TFLite converter accept every model.

Example:
>>> import portrait_garden as pg
>>> model = pg.models.PortraitSegmenter(image_size=(256, 256))
>>> model.save("segmenter.keras"); same = pg.load_model("segmenter.keras")
"""

from portrait_garden import (
    backbones,
    configs,
    data,
    evaluate,
    export,
    heads,
    layers,
    losses,
    models,
    ops,
    optimize,
)
from portrait_garden.models import PortraitSegmenter, build_segmenter
from portrait_garden.saving import load_model

__version__ = "0.1.0"

__all__ = [
    "PortraitSegmenter",
    "backbones",
    "build_segmenter",
    "configs",
    "data",
    "evaluate",
    "export",
    "heads",
    "layers",
    "load_model",
    "losses",
    "models",
    "ops",
    "optimize",
]
