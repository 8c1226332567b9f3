"""Evaluation runner: any model format in, person IoU and instance mask AP out."""

import json
import os

import numpy as np

from portrait_garden.data.readers import IGNORE, detect_format, read_examples


class Predictor:
    """Runs the end-to-end pipeline from a `.keras` model, a SavedModel export folder
    or a `.tflite` file; `predict(photo)` returns the serving outputs as NumPy.

    Args:
      path: `.keras` (instance network; `grouping` applies), an export folder
        (`saved_model/` inside) or a `.tflite` file.
      grouping: `"affinity"` or `"box"`, for `.keras` models only.
      num_threads: LiteRT threads for `.tflite`. Defaults to 2.
    """

    def __init__(self, path, grouping="affinity", num_threads=2):
        self.path = path
        if not os.path.exists(path):
            raise FileNotFoundError(f"No model at {path}.")
        if path.endswith(".tflite"):
            from ai_edge_litert.interpreter import Interpreter

            self._run = Interpreter(model_path=path, num_threads=num_threads) \
                .get_signature_runner("serving_default")
            self.kind = "tflite"
        elif path.endswith(".keras") or path.endswith(".h5"):
            from portrait_garden.saving import load_model

            model = load_model(path)
            if "center_heatmap" in model.output:
                from portrait_garden.export.serving import InstanceSegmenter, ServingConfig

                segmenter = InstanceSegmenter(model, ServingConfig(grouping=grouping))
                self._run = lambda image: {k: v.numpy()
                                           for k, v in segmenter.serve(image).items()}
                self.kind = "keras"
            else:
                self._run = _semantic_runner(model)
                self.kind = "keras-semantic"
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
        out = self._run(image=np.asarray(photo, np.uint8)[None])
        missing = self.expected - set(out)
        if missing:
            raise ValueError(f"{self.path} lacks outputs {sorted(missing)}: evaluate needs an "
                             "end-to-end export (portrait-garden export), not the network "
                             "alone.")
        return out


def _semantic_runner(model):
    """A segmentation-only network: letterbox, run, undo; person probability only."""
    import tensorflow as tf

    from portrait_garden.export.serving import letterbox

    size = tuple(int(v) for v in model.input.shape[1:3])

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
    def run(image):
        canvas, (oy, ox, nh, nw) = letterbox(image, size)
        prob = tf.sigmoid(model(canvas, training=False)["mask"])
        crop = prob[:, oy:oy + nh, ox:ox + nw]
        return tf.image.resize(crop, tf.shape(image)[1:3])[0, ..., 0]

    return lambda image: {"person_probability": run(image).numpy()}


def _person_counts(pred, labels):
    valid = labels != IGNORE
    truth = (labels > 0) & valid
    pred = pred & valid
    return int((pred & truth).sum()), int((pred | truth).sum())


def evaluate_dataset(predictor, dataset, split=None, max_images=None, progress=True):
    """Person IoU (dataset-level and mean per image) on any set; mask AP on COCO sets.

    Returns:
      dict with `person_iou`, `mean_image_iou`, `images`, and for COCO sets
      `mask_ap`, `mask_ap50`, `mask_ap75`.
    """
    examples, report = read_examples(dataset, split)
    if max_images:
        examples = examples[:max_images]
    inter = union = 0
    per_image, detections = [], []
    iterator = examples
    if progress:
        from tqdm import tqdm

        iterator = tqdm(examples, desc=f"evaluate {report.source}", unit="img")
    for index, ex in enumerate(iterator):
        out = predictor.predict(ex.image)
        pred = out["person_probability"] > 0.5
        i, u = _person_counts(pred, ex.labels)
        inter, union = inter + i, union + u
        per_image.append(i / u if u else 1.0)
        labels = out.get("instance_labels")
        for k in range(int(out.get("num_instances", 0))):
            m = labels == k + 1
            if m.any():
                detections.append((index, m, float(out["scores"][k])))
    result = {"dataset": report.source, "images": len(examples),
              "person_iou": inter / union if union else 1.0,
              "mean_image_iou": float(np.mean(per_image))}
    if detect_format(dataset) == "coco" and "num_instances" in predictor.expected:
        result.update(mask_ap(examples, detections))
    return result


def mask_ap(examples, detections):
    """COCO mask AP / AP50 / AP75 (pycocotools); crowd (ignore) regions as COCO does."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for index, ex in enumerate(examples):
        h, w = ex.labels.shape
        images.append({"id": index, "height": h, "width": w})
        for pid in np.unique(ex.labels):
            if pid == 0:
                continue
            m = np.asfortranarray((ex.labels == pid).astype(np.uint8))
            rle = mask_utils.encode(m)
            area = float(mask_utils.area(rle))
            rle["counts"] = rle["counts"].decode("ascii")
            ys, xs = np.nonzero(m)
            annotations.append({
                "id": len(annotations) + 1, "image_id": index, "category_id": 1,
                "segmentation": rle, "area": area, "iscrowd": int(pid == IGNORE),
                "bbox": [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
                         float(ys.max() - ys.min() + 1)]})
    for index, m, score in detections:
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        rle["counts"] = rle["counts"].decode("ascii")
        results.append({"image_id": index, "category_id": 1, "segmentation": rle,
                        "score": score})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": annotations,
                  "categories": [{"id": 1, "name": "person"}]}
    gt.createIndex()
    if not results:
        return {"mask_ap": 0.0, "mask_ap50": 0.0, "mask_ap75": 0.0}
    dt = gt.loadRes(results)
    ev = COCOeval(gt, dt, "segm")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return {"mask_ap": float(ev.stats[0]), "mask_ap50": float(ev.stats[1]),
            "mask_ap75": float(ev.stats[2])}


def write_json(result, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
