"""TFLite conversion and verification (later: the serving module and SavedModel export)."""

from portrait_garden.export.tflite import (
    QUANTIZATIONS,
    TFLiteRunner,
    convert_to_tflite,
    tflite_op_names,
    write_tflite,
)

__all__ = ["QUANTIZATIONS", "TFLiteRunner", "convert_to_tflite", "tflite_op_names", "write_tflite"]
