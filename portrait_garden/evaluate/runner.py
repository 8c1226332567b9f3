"""Evaluation runner: any model format in, person IoU and instance mask AP out."""

import json
import os

import numpy as np

from portrait_garden.data.readers import IGNORE, detect_format, read_examples
from portrait_garden.evaluate.metrics import (
    boundary_f_score,
    confusion_2class,
    miou_2class,
    person_iou_from_confusion,
)


def evaluate_dataset(predictor, dataset, split=None, max_images=None, progress=True,
                     boundary_tolerance=3, viz_dir=None, viz_count=6):
    """Evaluates a `Predictor` on a folder or COCO set (any size of photo).

    Returns:
      dict (the JSON `portrait-garden evaluate --out` writes):
      `dataset`, `images`, `person_iou` (dataset-level: summed intersections
      over summed unions), `mean_image_iou`, `miou` (2-class, dataset-level),
      `boundary_f` (mean per image, at `boundary_tolerance` pixels, of what
      users receive: `instance_labels > 0` for the instance pipeline, else the
      thresholded probability; `boundary_f_of` says which),
      `boundary_tolerance`, `per_image` (list of `{id, iou, boundary_f,
      instances}`), and for COCO sets `mask_ap`, `mask_ap50`, `mask_ap75`.
      Unlabelled (ignore) pixels count nowhere.
    """
    examples, report = read_examples(dataset, split)
    if max_images:
        examples = examples[:max_images]
    if not examples:
        raise ValueError(f"{dataset} (split {split!r}) has no images to evaluate.")
    confusion = np.zeros((2, 2), np.int64)
    per_image, detections = [], []
    iterator = examples
    if progress:
        from tqdm import tqdm

        iterator = tqdm(examples, desc=f"evaluate {report.source}", unit="img")
    for index, ex in enumerate(iterator):
        out = predictor.predict(ex.image)
        if out["person_probability"].shape != ex.labels.shape:
            raise ValueError(f"{predictor.path} returned person_probability of shape "
                             f"{out['person_probability'].shape} for a photo of "
                             f"{ex.labels.shape}: not a portrait-garden export.")
        pred = out["person_probability"] > 0.5
        valid = ex.labels != IGNORE
        truth = ex.labels > 0
        counts = confusion_2class(pred, truth & valid, valid)
        confusion += counts
        labels = out.get("instance_labels")
        # Boundary F on what users receive: the per-person labels when there are any.
        outline = pred if labels is None else labels > 0
        per_image.append({"id": ex.id, "iou": person_iou_from_confusion(counts),
                          "boundary_f": boundary_f_score(outline, truth & valid, valid,
                                                         boundary_tolerance),
                          "instances": int(out.get("num_instances", 0))})
        detections += _detections(index, out)
    result = {"dataset": report.source, "images": len(examples),
              "person_iou": person_iou_from_confusion(confusion),
              "mean_image_iou": float(np.mean([r["iou"] for r in per_image])),
              "miou": miou_2class(confusion),
              "boundary_f": float(np.mean([r["boundary_f"] for r in per_image])),
              "boundary_tolerance": boundary_tolerance,
              "boundary_f_of": "person_probability > 0.5" if "instance_labels" not in
              predictor.expected else "instance_labels > 0"}
    if detect_format(dataset) == "coco" and "num_instances" in predictor.expected:
        result.update(mask_ap(examples, detections))
        result["threshold_sweep"] = threshold_sweep(examples, detections)
    result["per_image"] = per_image
    if viz_dir:
        result["viz"] = write_best_worst(predictor, examples, per_image, viz_dir, viz_count)
    return result


def _detections(index, out):
    """`[(index, mask, score)]` of one photo's pipeline outputs: each labelled person
    that owns pixels (none for a segmentation-only model)."""
    labels = out.get("instance_labels")
    masks = [(labels == k + 1, float(out["scores"][k]))
             for k in range(int(out.get("num_instances", 0)))]
    return [(index, mask, score) for mask, score in masks if mask.any()]


def write_best_worst(predictor, examples, per_image, out_dir, count=6, superpixels=True):
    """Overlays of the `count` best and worst images by person IoU: prediction
    (one colour per person, boxes, superpixel edges) beside the ground truth.

    Returns:
      list of written PNG paths.
    """
    from portrait_garden.data.visualize import save_grid

    os.makedirs(out_dir, exist_ok=True)
    order = np.argsort([r["iou"] for r in per_image], kind="stable")
    paths = []
    for name, picked in (("worst", order[:count]), ("best", order[::-1][:count])):
        samples = []
        for i in picked:
            ex = examples[i]
            out = predictor.predict(ex.image)
            labels = out.get("instance_labels", (out["person_probability"] > 0.5).astype(int))
            edges = superpixel_edges(ex.image) if superpixels else None
            samples.append({"image": ex.image, "labels": labels, "boundary": edges,
                            "boxes": out.get("boxes", np.zeros((0, 4)))[
                                :int(out.get("num_instances", 0))],
                            "title": f"{ex.id[:18]} IoU {per_image[i]['iou']:.3f}"})
            samples.append({"image": ex.image, "labels": ex.labels, "title": "ground truth"})
        path = os.path.join(out_dir, f"{name}.png")
        save_grid(samples, path, columns=4,
                  title=f"{name} {len(picked)} by person IoU: prediction | ground truth")
        paths.append(path)
    return paths


def superpixel_edges(photo, grid=(16, 16)):
    """`[H, W, 1]` float edges of the pipeline's SLIC superpixels (16x16 grid) on a
    256x256 resize of the photo, for drawing. An illustration: the grouping itself runs
    SLIC at 64x64 on the letterboxed canvas, with the same grid."""
    import tensorflow as tf

    from portrait_garden.evaluate.metrics import _edges
    from portrait_garden.ops.superpixels import slic

    h, w = photo.shape[:2]
    small = tf.image.resize(tf.constant(photo, tf.float32), (256, 256))
    labels, _, _ = slic(small, grid)
    big = tf.image.resize(tf.cast(labels[..., None], tf.float32), (h, w), method="nearest")
    return _edges(big.numpy()[..., 0])[..., None].astype(np.float32)


def _instances(ex):
    """`[(mask, iscrowd)]` of one example, empty masks dropped: the original instance
    annotations (overlaps kept) where the reader has them, else the label map's
    persons (portrait sets: one non-overlapping mask each; `IGNORE` as crowd)."""
    if ex.annotations is not None:
        masks = ex.annotations
    else:
        masks = [(ex.labels == pid, pid == IGNORE) for pid in np.unique(ex.labels) if pid]
    return [(m, bool(crowd)) for m, crowd in masks if m.any()]


def _rle(mask):
    """A boolean mask as a COCO RLE dict (JSON-ready counts)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _ground_truth(index, ex):
    """COCO annotations of one example (see `_instances`)."""
    from pycocotools import mask as mask_utils

    out = []
    for m, crowd in _instances(ex):
        rle = _rle(m)
        ys, xs = np.nonzero(m)
        out.append({
            "image_id": index, "category_id": 1, "segmentation": rle,
            "area": float(mask_utils.area(rle)), "iscrowd": int(crowd),
            "bbox": [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
                     float(ys.max() - ys.min() + 1)]})
    return out


def mask_ap(examples, detections):
    """COCO-standard mask AP / AP50 / AP75 (pycocotools `COCOeval`, `segm`, its
    default of at most 100 detections per image): ground truth from the original
    instance annotations, overlaps allowed, crowd regions ignored as pycocotools
    does; every detection the pipeline returns counts, so the score floor of the
    evaluated pipeline (`ServingConfig.score_threshold`) bounds the curve."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for index, ex in enumerate(examples):
        h, w = ex.labels.shape
        images.append({"id": index, "height": h, "width": w})
        for ann in _ground_truth(index, ex):
            annotations.append({"id": len(annotations) + 1, **ann})
    for index, m, score in detections:
        results.append({"image_id": index, "category_id": 1, "segmentation": _rle(m),
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


SWEEP_THRESHOLDS = tuple(round(0.05 * k, 2) for k in range(1, 13))
"""Score thresholds `threshold_sweep` tries: 0.05 ... 0.60."""


def threshold_sweep(examples, detections, thresholds=SWEEP_THRESHOLDS, iou=0.5):
    """Detection precision, recall and F1 at each serving score threshold, for
    choosing `ServingConfig.score_threshold` on a dev set (never on the set you
    report). A detection is a true positive when its mask overlaps a not-yet-matched
    annotated person at mask IoU >= `iou` (greedy by score, as COCO); one that
    lies in a crowd region (intersection >= `iou` of its area, as pycocotools) counts
    nowhere.

    Returns:
      dict: `rows` (list of `{threshold, precision, recall, f1}`), `best_threshold`
      (highest F1; the lowest such threshold on ties) and `iou`.
    """
    from pycocotools import mask as mask_utils

    by_image = {}
    for index, m, score in detections:
        by_image.setdefault(index, []).append((score, m))
    matched = []   # (score, outcome): 1 true positive, 0 false positive
    persons = 0
    for index, ex in enumerate(examples):
        truth = _instances(ex)
        crowd = [c for _, c in truth]
        persons += crowd.count(False)
        dets = sorted(by_image.get(index, []), key=lambda d: -d[0])
        if not dets:
            continue
        if not truth:
            matched += [(score, 0) for score, _ in dets]
            continue
        # pycocotools' IoU: against a crowd region it is intersection / detection area.
        ious = mask_utils.iou([_rle(m) for _, m in dets], [_rle(m) for m, _ in truth],
                              [int(c) for c in crowd])
        free = [not c for c in crowd]
        for k, (score, _) in enumerate(dets):
            person = np.where(free, ious[k], -1.0)
            if person.max() >= iou:
                free[int(np.argmax(person))] = False
                matched.append((score, 1))
            elif not any(c and ious[k, t] >= iou for t, c in enumerate(crowd)):
                matched.append((score, 0))
    rows = []
    for t in thresholds:
        kept = [o for s, o in matched if s >= t]
        tp = sum(kept)
        precision = tp / len(kept) if kept else 0.0
        recall = tp / persons if persons else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        rows.append({"threshold": t, "precision": precision, "recall": recall, "f1": f1})
    best = max(rows, key=lambda r: (r["f1"], -r["threshold"]))
    return {"rows": rows, "best_threshold": best["threshold"], "iou": iou}


def choose_serving_threshold(model_path, dataset, split, thresholds=SWEEP_THRESHOLDS,
                             max_detections=16, grouping="affinity", iou=0.5, progress=True,
                             serving=None):
    """Chooses `ServingConfig.score_threshold` on a dev split by running the served
    pipeline at each candidate threshold (a person's mask depends on which other boxes
    survive the threshold, so the served detections, not a cut of the low-floor run,
    are scored).

    Args:
      model_path: `.keras` instance network.
      dataset: COCO person set folder (e.g. `pfg_sports`).
      split: its dev split (e.g. `"dev"`); never the split you report.
      thresholds: candidate score thresholds.
      max_detections: box slots of the pipeline.
      grouping: `"affinity"` or `"box"`.
      iou: mask IoU of a true positive.
      serving: optional `ServingConfig` whose other settings (grid, priority, ...)
        the pipeline keeps (e.g. the model's `config.yaml`). Defaults to the defaults.

    Returns:
      dict: `dataset`, `images`, `persons`, `max_detections`, `grouping`, `iou`,
      `rows` (`{threshold, precision, recall, f1, mask_ap, mask_ap50}` per threshold)
      and `best_threshold` (highest F1; the lowest such threshold on ties).

    Raises:
      ValueError: not a `.keras` model, or a set without instance annotations.
    """
    import contextlib
    import dataclasses
    import io

    from portrait_garden.configs.schema import ServingConfig
    from portrait_garden.models.instance_segmenter import InstanceSegmenter
    from portrait_garden.saving import load_portrait_model

    if not (model_path.endswith(".keras") or model_path.endswith(".h5")):
        raise ValueError(f"{model_path}: choosing the serving threshold runs the pipeline at "
                         "each candidate, which needs the .keras model (an export has its "
                         "threshold built in).")
    if detect_format(dataset) != "coco":
        raise ValueError(f"{dataset} has no instance annotations (annotations.json): the "
                         "serving threshold is chosen on a COCO person set's dev split, "
                         "e.g. --dataset pfg_sports --split dev.")
    examples, report = read_examples(dataset, split)
    model = load_portrait_model(model_path)
    rows = []
    for t in thresholds:
        # What an export at threshold t serves: every box it keeps is >= t, so the
        # priority rule (written as t by --write) makes no difference there.
        segmenter = InstanceSegmenter(model, dataclasses.replace(
            serving or ServingConfig(), grouping=grouping, score_threshold=float(t),
            priority_score=float(t), max_detections=max_detections))
        detections = []
        iterator = examples
        if progress:
            from tqdm import tqdm

            iterator = tqdm(examples, desc=f"{report.source} threshold {t:.2f}", unit="img")
        for index, ex in enumerate(iterator):
            detections += _detections(index, segmenter.segment(ex.image))
        sweep = threshold_sweep(examples, detections, thresholds=(0.0,), iou=iou)["rows"][0]
        with contextlib.redirect_stdout(io.StringIO()):
            ap = mask_ap(examples, detections)
        rows.append({"threshold": float(t), "precision": sweep["precision"],
                     "recall": sweep["recall"], "f1": sweep["f1"],
                     "mask_ap": ap["mask_ap"], "mask_ap50": ap["mask_ap50"]})
    best = max(rows, key=lambda r: (r["f1"], -r["threshold"]))
    persons = sum(not crowd for ex in examples for _, crowd in _instances(ex))
    return {"dataset": report.source, "images": len(examples), "persons": persons,
            "max_detections": max_detections, "grouping": grouping, "iou": iou,
            "rows": rows, "best_threshold": best["threshold"]}


def write_json(result, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
