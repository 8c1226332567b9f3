"""Serving module, SavedModel + TFLite export, conversion and LiteRT verification."""

from portrait_garden.export.exporter import TFLITE_FILES, export_model
from portrait_garden.export.serving import (
    InstanceSegmenter,
    ServingConfig,
    check_photo,
    instances_from_outputs,
    serving_network,
)
from portrait_garden.export.tflite import (
    QUANTIZATIONS,
    TFLiteRunner,
    convert_to_tflite,
    tflite_op_names,
    write_tflite,
)

__all__ = [
    "QUANTIZATIONS",
    "TFLITE_FILES",
    "InstanceSegmenter",
    "ServingConfig",
    "TFLiteRunner",
    "check_photo",
    "convert_to_tflite",
    "export_model",
    "instances_from_outputs",
    "serving_network",
    "tflite_op_names",
    "write_tflite",
]
