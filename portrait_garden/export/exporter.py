"""`portrait-garden export`: one SavedModel and its .tflite files in four precisions."""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from portrait_garden.export.tflite import (
    configure_quantization,
    float_post_processing,
    tflite_op_names,
    write_tflite,
)
from portrait_garden.models.instance_segmenter import InstanceSegmenter, ServingConfig
from portrait_garden.ops.resample import letterbox

TFLITE_FILES = {
    "float32": "model_float32.tflite",
    "float16": "model_float16.tflite",
    "dynamic": "model_dynamic_int8.tflite",
    "int8": "model_int8.tflite",
}
NETWORK_FILES = {"float32": "network_float32.tflite", "int8": "network_int8.tflite"}
"""The network alone (letterboxed float32 [1, H, W, 3] in [0, 255] -> logits), for
latency comparisons and for apps that need only the person mask."""


def _converter(saved_model_dir, quantization, representative_images):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, ["serving_default"])
    if quantization == "int8" and not representative_images:
        raise ValueError("The int8 export needs representative images (real photos, "
                         "uint8 [H, W, 3]) to calibrate activation ranges.")
    return configure_quantization(
        converter, quantization,
        lambda: ([np.asarray(img, np.uint8)[None]] for img in representative_images),
        float_fallback=True)


def _convert_int8(saved_model_dir, representative_images):
    """Full-integer network, float pre/post-processing, in one .tflite.

    Every op of the network (tensors named `serving_network/...`) runs with int8
    weights and activations; letterboxing, box decoding, superpixels and the
    affinity grouping stay float32 (their distances, exponentials and divisions
    do not survive 8-bit calibration), selected with TFLite's quantization
    debugger deny-list.
    """
    from ai_edge_litert.interpreter import Interpreter

    converter = _converter(saved_model_dir, "int8", representative_images)
    # The debugger converts and calibrates once; its calibrated float model names the
    # tensors, so no separate float32 conversion is needed to find the post-processing
    # (setting `options` re-quantizes the calibrated model only, about 1 s).
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=converter.representative_dataset)
    names = [t["name"] for t in
             Interpreter(model_content=debugger.calibrated_model).get_tensor_details()]
    post = [n for n in names if not n.startswith("serving_network/")]
    debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=post)
    # The deny-list does not keep all of it float (int8 round trips of float tensors; for
    # a QAT network, int8 stretches after its outputs): make it float32 after conversion.
    return float_post_processing(debugger.get_nondebug_quantized_model())[0]


def _serving_module(segmenter):
    """What the SavedModel holds: the `serve` function and the variables it reads.

    Saving the `InstanceSegmenter` itself would also save its Keras network's layers with
    every call function traced, which the SavedModel's users (`Predictor`, the TFLite
    converter) never call; writing and each converter's re-loading of them took most of
    an export's time (about 5x slower in all).
    """
    module = tf.Module()
    module.serve = segmenter.serve
    module.network_variables = list(segmenter.network.variables)
    return module


def _save(segmenter, saved_model_dir):
    tf.saved_model.save(_serving_module(segmenter), saved_model_dir,
                        signatures={"serving_default": segmenter.serve.get_concrete_function()})


def export_model(model, out_dir, config=None, representative_images=None,
                 quantizations=tuple(TFLITE_FILES), metadata=None, network=True):
    """Exports the end-to-end instance model.

    Writes `out_dir/saved_model` (signature `serving_default`: uint8 image
    `[1, H, W, 3]` of any size -> `instance_labels`, `boxes`, `scores`,
    `num_instances`, `person_probability`), one .tflite per quantization (see
    `TFLITE_FILES`), the network alone as .tflite (`NETWORK_FILES`, for float32
    and int8 when requested) and `export.json` (serving config, files, op sets).

    Args:
      model: `PortraitSegmenter` with `detector=True` (float or QAT; a Keras 3
        `portrait_garden.keras3.PortraitSegmenter` is converted to tf_keras).
      out_dir: str.
      config: `ServingConfig`. Defaults to `ServingConfig()`.
      representative_images: list of uint8 `[H, W, 3]` photos, needed for int8.
      quantizations: subset of `TFLITE_FILES` keys. Defaults to all four.
      metadata: optional dict stored in `export.json` (e.g. the training config).
      network: bool, also write the network alone (`NETWORK_FILES`) for the
        requested quantizations. Defaults to True; False halves the conversions
        when only the whole pipeline is wanted.

    With `config.refine_radius` > 0 every file upsamples the person mask with the guided
    filter, the int8 one too: its post-processing runs in float32 (deny-list, then
    `float_post_processing`), so the filter's local statistics are not rounded.

    Returns:
      dict: `"saved_model"` path and one path per quantization.

    Raises:
      ValueError: unknown quantization, or int8 without representative images.
    """
    unknown = [q for q in quantizations if q not in TFLITE_FILES]
    if unknown:
        raise ValueError(f"Unknown quantizations {unknown}; available: {list(TFLITE_FILES)}.")
    if "int8" in quantizations and not representative_images:
        raise ValueError("The int8 export needs representative images (real photos, "
                         "uint8 [H, W, 3]) to calibrate activation ranges.")
    config = config or ServingConfig()
    segmenter = InstanceSegmenter(model, config)
    os.makedirs(out_dir, exist_ok=True)
    saved_model_dir = os.path.join(out_dir, "saved_model")
    _save(segmenter, saved_model_dir)
    paths = {"saved_model": saved_model_dir}
    files = {}
    for quantization in quantizations:
        if quantization == "int8":
            data = _convert_int8(saved_model_dir, representative_images)
        else:
            data = _converter(saved_model_dir, quantization, representative_images).convert()
        path = os.path.join(out_dir, TFLITE_FILES[quantization])
        with open(f"{path}.tmp", "wb") as f:
            f.write(data)
        os.replace(f"{path}.tmp", path)
        paths[quantization] = path
        files[quantization] = {"file": TFLITE_FILES[quantization], "bytes": len(data),
                               "ops": sorted(tflite_op_names(data))}
    info = {"serving_config": dataclasses.asdict(config),
            "network_input_size": list(segmenter.size),
            "signature": {"input": "image uint8 [1, H, W, 3]",
                          "outputs": ["instance_labels int32 [H, W]", "boxes float32 [N_max, 4]",
                                      "scores float32 [N_max]", "num_instances int32 []",
                                      "person_probability float32 [H, W]"]},
            "tflite": files, **(metadata or {})}
    for quantization, name in NETWORK_FILES.items():
        if not network or quantization not in quantizations:
            continue
        canvases = None
        if quantization == "int8":
            canvases = [letterbox(tf.constant(np.asarray(img, np.uint8)[None]),
                                  segmenter.size)[0].numpy() for img in representative_images]
        path = write_tflite(segmenter.network, os.path.join(out_dir, name),
                            quantization=quantization,
                            representative_images=canvases)
        paths[f"network_{quantization}"] = path
        files[f"network_{quantization}"] = {"file": name, "bytes": os.path.getsize(path)}
    with open(os.path.join(out_dir, "export.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    return paths
