"""Export: the end-to-end model (`portrait_garden.models.InstanceSegmenter`) to a
SavedModel and `.tflite` files, conversion and LiteRT verification."""

from portrait_garden.export.exporter import TFLITE_FILES, export_model
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
    "TFLiteRunner",
    "convert_to_tflite",
    "export_model",
    "tflite_op_names",
    "write_tflite",
]
