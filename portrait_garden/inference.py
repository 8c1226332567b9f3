"""Inference: one entry point for every model format. `Predictor(path).predict(photo)`
runs the end-to-end pipeline (letterbox, network, detector decoding, superpixels,
affinity grouping, undo) on one uint8 photo and returns the serving outputs as NumPy.
Used by `segment`, `demo`, `evaluate`, `benchmark` and the notebooks.

Example:
>>> from portrait_garden.inference import Predictor
>>> out = Predictor("saved_models/portrait_instance_mbv2_100_256/model_int8.tflite").predict(photo)
>>> out["instance_labels"].shape == photo.shape[:2]
"""

import os


class Predictor:
    """Runs the end-to-end pipeline from a `.keras` model, a SavedModel export folder
    or a `.tflite` file; `predict(photo)` returns the serving outputs as NumPy.

    Args:
      path: `.keras` (instance network; `grouping` applies), an export folder
        (`saved_model/` inside) or a `.tflite` file.
      grouping: `"affinity"` or `"box"`, for `.keras` models only.
      num_threads: LiteRT threads for `.tflite`. Defaults to 2.
      serving: optional dict of `ServingConfig` fields for `.keras` models (e.g.
        `{"score_threshold": 0.05, "max_detections": 16}` for COCO-standard AP).
        Exports keep the settings they were exported with.

    Attributes:
      serving_config: dict, the post-processing settings in use: those of the
        `.keras` pipeline, or of the export (its `export.json`), or None if unknown.
    """

    def __init__(self, path, grouping="affinity", num_threads=2, serving=None):
        self.path = path
        self.serving_config = _export_settings(path)
        if serving and not (path.endswith(".keras") or path.endswith(".h5")):
            raise ValueError(
                f"Serving settings {sorted(serving)} apply to a .keras model only; {path} is "
                "an export, which keeps the settings it was exported with. Pass the "
                ".keras model, or re-export with these settings.")
        if not os.path.exists(path):
            raise FileNotFoundError(f"No model at {path}.")
        if path.endswith(".tflite"):
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=path, num_threads=num_threads)
            signature = interpreter.get_signature_list().get("serving_default", {})
            if "person_probability" not in signature.get("outputs", []):
                raise ValueError(
                    f"{path} returns {signature.get('outputs')}, not the pipeline's outputs: it "
                    "is not an end-to-end export (network_*.tflite is the network alone; use "
                    "model_*.tflite from portrait-garden export).")
            self._run = interpreter.get_signature_runner("serving_default")
            self.kind = "tflite"
        elif path.endswith(".keras") or path.endswith(".h5"):
            from portrait_garden.saving import load_portrait_model

            model = load_portrait_model(path)
            if "center_heatmap" in model.output:
                import dataclasses

                from portrait_garden.models.instance_segmenter import (
                    InstanceSegmenter,
                    ServingConfig,
                )

                try:
                    config = ServingConfig(**{"grouping": grouping, **(serving or {})})
                except TypeError as e:
                    raise ValueError(f"Unknown serving setting: {e}. Valid: "
                                     f"{[f.name for f in dataclasses.fields(ServingConfig)]}."
                                     ) from None
                segmenter = InstanceSegmenter(model, config)
                self.serving_config = dataclasses.asdict(config)
                self._run = lambda image: {k: v.numpy()
                                           for k, v in segmenter.serve(image).items()}
                self.kind = "keras"
            else:
                self._run = _semantic_runner(model)
                self.kind = "keras-semantic"
        elif os.path.isdir(path) and not os.path.isdir(os.path.join(path, "saved_model")) \
                and not os.path.exists(os.path.join(path, "saved_model.pb")):
            raise ValueError(
                f"{path} is a folder without a SavedModel (saved_model/ or saved_model.pb): "
                "pass an export folder written by portrait-garden export, or one of its "
                ".tflite files.")
        else:
            import tensorflow as tf

            saved = os.path.join(path, "saved_model") if os.path.isdir(
                os.path.join(path, "saved_model")) else path
            fn = tf.saved_model.load(saved).signatures["serving_default"]
            self._run = lambda image: {k: v.numpy() for k, v in fn(image=image).items()}
            self.kind = "saved_model"
        self.expected = {"person_probability"} if self.kind == "keras-semantic" else {
            "instance_labels", "boxes", "scores", "num_instances", "person_probability"}

    def predict(self, photo):
        """Runs the pipeline on one photo.

        Args:
          photo: uint8 RGB `[H, W, 3]` (or `[1, H, W, 3]`).

        Raises:
          ValueError: wrong dtype (floats in [0, 1] or int64 are not silently cast),
            rank, channel count or an empty photo; the message says what to pass.
        """
        from portrait_garden.models.instance_segmenter import check_photo

        out = self._run(image=check_photo(photo)[None])
        missing = self.expected - set(out)
        if missing:
            raise ValueError(f"{self.path} lacks outputs {sorted(missing)}: evaluate needs an "
                             "end-to-end export (portrait-garden export), not the network "
                             "alone.")
        return out


def _semantic_runner(model):
    """A segmentation-only network: letterbox, run, undo; person probability only."""
    import tensorflow as tf

    from portrait_garden.ops.resample import letterbox

    size = tuple(int(v) for v in model.input.shape[1:3])

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
    def run(image):
        canvas, (oy, ox, nh, nw) = letterbox(image, size)
        prob = tf.sigmoid(model(canvas, training=False)["mask"])
        crop = prob[:, oy:oy + nh, ox:ox + nw]
        return tf.image.resize(crop, tf.shape(image)[1:3])[0, ..., 0]

    return lambda image: {"person_probability": run(image).numpy()}


def _export_settings(path):
    """The `serving_config` of the `export.json` beside an export (folder or
    `.tflite`), or None."""
    import json

    folder = path if os.path.isdir(path) else os.path.dirname(path)
    try:
        with open(os.path.join(folder, "export.json"), encoding="utf-8") as f:
            return json.load(f).get("serving_config")
    except (OSError, ValueError):
        return None
