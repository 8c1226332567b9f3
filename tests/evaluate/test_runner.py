import json
import os

import numpy as np
import pytest

from portrait_garden.data import IGNORE, Example, read_examples
from portrait_garden.evaluate.runner import evaluate_dataset, mask_ap
from tests.data.conftest import write_coco_set


def _example(labels):
    labels = np.asarray(labels, np.uint8)
    return Example("x", np.zeros((*labels.shape, 3), np.uint8), labels)


def _two_people():
    labels = np.zeros((40, 40), np.uint8)
    labels[5:20, 5:20] = 1
    labels[22:38, 20:38] = 2
    return labels


def test_perfect_detections_give_ap_1():
    labels = _two_people()
    dets = [(0, labels == 1, 0.9), (0, labels == 2, 0.8)]
    result = mask_ap([_example(labels)], dets)
    assert result["mask_ap"] == pytest.approx(1.0) and result["mask_ap50"] == pytest.approx(1.0)


def test_no_detection_gives_zero_and_shifted_masks_lose_ap75():
    labels = _two_people()
    assert mask_ap([_example(labels)], [])["mask_ap"] == 0.0
    shifted = [(0, np.roll(labels == k, 3, axis=1), 0.9) for k in (1, 2)]
    result = mask_ap([_example(labels)], shifted)
    assert result["mask_ap50"] == pytest.approx(1.0) and result["mask_ap75"] < 1.0


def test_detection_on_a_crowd_region_is_not_a_false_positive():
    labels = _two_people()
    labels[0:4, 30:40] = IGNORE
    crowd = np.zeros_like(labels, bool)
    crowd[0:4, 30:40] = True
    dets = [(0, labels == 1, 0.9), (0, labels == 2, 0.8), (0, crowd, 0.95)]
    assert mask_ap([_example(labels)], dets)["mask_ap"] == pytest.approx(1.0)


def test_ground_truth_is_the_original_annotations_with_overlaps():
    """COCO-standard AP scores against the annotations, not the repainted label map:
    the occluded person's full mask is the right answer, and the reader keeps it."""
    full_a = np.zeros((40, 40), bool)
    full_a[5:30, 5:30] = True
    b = np.zeros((40, 40), bool)
    b[15:38, 15:38] = True
    labels = np.zeros((40, 40), np.uint8)
    labels[full_a] = 1
    labels[b] = 2                       # b occludes a: the label map cuts a
    dets = [(0, full_a, 0.9), (0, b, 0.8)]
    annotated = Example("x", np.zeros((40, 40, 3), np.uint8), labels,
                        annotations=[(full_a, False), (b, False)])
    assert mask_ap([annotated], dets)["mask_ap75"] == pytest.approx(1.0)
    assert mask_ap([_example(labels)], dets)["mask_ap75"] < 1.0


def test_coco_reader_keeps_each_annotation_and_its_crowd_flag(tmp_path):
    write_coco_set(tmp_path / "coco")
    examples, _ = read_examples(str(tmp_path / "coco"))
    for ex in examples:
        assert ex.annotations is not None
        persons = [m for m, crowd in ex.annotations if not crowd]
        assert len(persons) == ex.num_instances
        assert all(m.shape == ex.labels.shape for m, _ in ex.annotations)
        # Every labelled person pixel lies in some annotation.
        covered = np.any([m for m in persons], axis=0) if persons else ex.labels == 0
        assert covered[(ex.labels > 0) & (ex.labels != IGNORE)].all()
    small, _ = read_examples(str(tmp_path / "coco"), max_side=16)
    assert all(m.shape == ex.labels.shape for ex in small for m, _ in ex.annotations)


class _PerfectPredictor:
    """Returns the ground truth of each image (looked up by its pixels)."""

    expected = {"instance_labels", "boxes", "scores", "num_instances", "person_probability"}

    def __init__(self, examples):
        self.by_image = {ex.image.tobytes(): ex.labels for ex in examples}

    def predict(self, photo):
        labels = self.by_image[np.asarray(photo).tobytes()].astype(np.int32)
        labels = np.where(labels == IGNORE, 0, labels)
        n = int(labels.max())
        return {"instance_labels": labels, "num_instances": n,
                "scores": np.linspace(0.9, 0.5, 8), "boxes": np.zeros((8, 4)),
                "person_probability": (labels > 0).astype(np.float32)}


def test_evaluate_dataset_schema_on_a_tiny_coco_set(tmp_path):
    write_coco_set(tmp_path / "coco")
    examples, _ = read_examples(str(tmp_path / "coco"))
    result = evaluate_dataset(_PerfectPredictor(examples), str(tmp_path / "coco"),
                              progress=False, viz_dir=str(tmp_path / "viz"), viz_count=2)
    assert set(result) == {"dataset", "images", "person_iou", "mean_image_iou", "miou",
                           "boundary_f", "boundary_tolerance", "boundary_f_of", "mask_ap",
                           "mask_ap50", "mask_ap75", "threshold_sweep", "per_image", "viz"}
    assert result["boundary_f_of"] == "instance_labels > 0"   # what per-person effects use
    assert result["images"] == 3 and result["person_iou"] == pytest.approx(1.0)
    assert result["miou"] == pytest.approx(1.0) and result["boundary_f"] == pytest.approx(1.0)
    # The label map cuts the occluded person (700 of its 900 annotated pixels, IoU
    # 0.78): it matches at IoU 0.5-0.75, not above, against the COCO annotations.
    assert result["mask_ap50"] == pytest.approx(1.0) and result["mask_ap75"] == pytest.approx(1.0)
    assert result["mask_ap"] < 0.9
    assert [set(r) for r in result["per_image"]] == [{"id", "iou", "boundary_f",
                                                      "instances"}] * 3
    assert sorted(os.path.basename(p) for p in result["viz"]) == ["best.png", "worst.png"]
    # The photos are flat grey; the overlays tint each person (the first one red) in the
    # prediction and the ground-truth panels.
    from tests.conftest import dominant_fraction

    assert all(dominant_fraction(p, 0) > 0.005 for p in result["viz"])
    json.dumps(result)


class _ShiftedPredictor(_PerfectPredictor):
    """The ground truth moved 6 pixels right: IoU, mIoU and boundary F all drop."""

    def predict(self, photo):
        out = super().predict(photo)
        out["person_probability"] = np.roll(out["person_probability"], 6, axis=1)
        out["instance_labels"] = np.roll(out["instance_labels"], 6, axis=1)
        return out


def test_evaluate_dataset_scores_a_shifted_prediction_lower(tmp_path):
    write_coco_set(tmp_path / "coco")
    examples, _ = read_examples(str(tmp_path / "coco"))
    result = evaluate_dataset(_ShiftedPredictor(examples), str(tmp_path / "coco"),
                              progress=False)
    assert result["person_iou"] < 0.95 and result["miou"] < 0.98
    assert result["boundary_f"] < 0.9


def test_network_only_tflite_is_refused_with_a_clear_message(tmp_path):
    from portrait_garden.export import write_tflite
    from portrait_garden.inference import Predictor
    from tests.conftest import tiny_segmenter

    path = write_tflite(tiny_segmenter(), str(tmp_path / "network_float32.tflite"))
    with pytest.raises(ValueError, match="not an end-to-end export"):
        Predictor(path)


def test_folder_without_a_saved_model_is_refused_with_a_clear_message(tmp_path):
    from portrait_garden.inference import Predictor

    (tmp_path / "model_float16.tflite").write_bytes(b"x")
    with pytest.raises(ValueError, match="folder without a SavedModel.*portrait-garden export"):
        Predictor(str(tmp_path))


def test_serving_settings_reach_a_keras_pipeline_and_are_refused_for_exports(tmp_path):
    """`evaluate` lowers the score floor for COCO-standard AP through `serving`; an
    export keeps what it was exported with, so asking it for more is an error."""
    from portrait_garden.inference import Predictor
    from tests.conftest import tiny_segmenter

    path = str(tmp_path / "tiny.keras")
    tiny_segmenter(detector=True).save(path)
    predictor = Predictor(path, serving={"score_threshold": 0.05, "max_detections": 16})
    assert predictor.serving_config["score_threshold"] == 0.05
    assert predictor.serving_config["max_detections"] == 16
    out = predictor.predict(np.zeros((90, 70, 3), np.uint8))
    assert out["scores"].shape == (16,)
    with pytest.raises(ValueError, match="Unknown serving setting.*Valid"):
        Predictor(path, serving={"score_treshold": 0.05})
    (tmp_path / "export").mkdir()
    with pytest.raises(ValueError, match="apply to a .keras model only"):
        Predictor(str(tmp_path / "export"), serving={"score_threshold": 0.05})


def test_threshold_sweep_picks_the_threshold_that_drops_false_positives_only():
    from portrait_garden.evaluate.runner import threshold_sweep

    labels = _two_people()
    stray = np.zeros_like(labels, bool)
    stray[0:4, 0:4] = True
    dets = [(0, labels == 1, 0.9), (0, labels == 2, 0.3), (0, stray, 0.2)]
    sweep = threshold_sweep([_example(labels)], dets)
    rows = {r["threshold"]: r for r in sweep["rows"]}
    assert rows[0.2]["precision"] == pytest.approx(2 / 3) and rows[0.2]["recall"] == 1.0
    assert rows[0.3]["f1"] == pytest.approx(1.0)
    assert rows[0.35]["recall"] == pytest.approx(0.5)
    assert sweep["best_threshold"] == 0.25


class _ServedGroundTruth:
    """Stands in for `InstanceSegmenter`: serves each annotated person of the tiny COCO
    set at score 0.5 (nothing above that threshold) and, when the threshold is at most
    0.12, a stray detection at 0.12 that takes the first person's pixels and the
    background (the person is lost)."""

    examples = None

    def __init__(self, model, config):
        self.config = config

    def segment(self, photo):
        ex = next(e for e in self.examples if e.image.shape == photo.shape
                  and (e.image == photo).all())
        labels = ex.labels.astype(np.int32) * (ex.labels != IGNORE)
        if self.config.score_threshold > 0.5:
            labels = np.zeros_like(labels)
        people = [k for k in np.unique(labels) if k]
        scores = [0.5] * len(people)
        if people and self.config.score_threshold <= 0.12:
            stray = (labels == people[0]) | (labels == 0)
            labels = np.where(stray, len(people) + 1, labels)
            scores.append(0.12)
        n = self.config.max_detections
        return {"instance_labels": labels, "num_instances": len(scores),
                "scores": np.array(scores + [0.0] * (n - len(scores)), np.float32)}


def test_choose_serving_threshold_scores_what_each_threshold_serves(tmp_path, monkeypatch):
    from portrait_garden.evaluate import runner
    from portrait_garden.models import instance_segmenter
    from tests.conftest import tiny_segmenter

    write_coco_set(tmp_path / "coco")
    (tmp_path / "coco" / "dev.txt").write_text("a\nb\n")
    _ServedGroundTruth.examples, _ = read_examples(str(tmp_path / "coco"), "dev")
    monkeypatch.setattr(instance_segmenter, "InstanceSegmenter", _ServedGroundTruth)
    model = str(tmp_path / "tiny.keras")
    tiny_segmenter(detector=True).save(model)
    result = runner.choose_serving_threshold(model, str(tmp_path / "coco"), "dev",
                                             thresholds=(0.1, 0.15, 0.6), progress=False)
    rows = {r["threshold"]: r for r in result["rows"]}
    assert result["images"] == 2 and result["persons"] == 3
    # At 0.10 the stray takes a person: a false positive and a lost person.
    assert rows[0.1]["recall"] < 1.0 and rows[0.1]["precision"] < 1.0
    assert rows[0.15]["f1"] == pytest.approx(1.0) and rows[0.15]["mask_ap50"] == 1.0
    assert rows[0.6]["recall"] == 0.0
    assert result["best_threshold"] == 0.15


def test_choose_threshold_cli_writes_the_serving_section(tmp_path, monkeypatch, capsys):
    from portrait_garden.cli import main
    from portrait_garden.configs import ExperimentConfig, load_config, save_config
    from portrait_garden.models import instance_segmenter
    from tests.conftest import tiny_segmenter

    write_coco_set(tmp_path / "coco")
    (tmp_path / "coco" / "dev.txt").write_text("a\nb\n")
    _ServedGroundTruth.examples, _ = read_examples(str(tmp_path / "coco"), "dev")
    monkeypatch.setattr(instance_segmenter, "InstanceSegmenter", _ServedGroundTruth)
    run = tmp_path / "run"
    run.mkdir()
    tiny_segmenter(detector=True).save(str(run / "best.keras"))
    args = ["choose-threshold", "--model", str(run / "best.keras"), "--dataset",
            str(tmp_path / "coco"), "--max-detections", "12", "--write"]
    assert main(args) == 2
    assert "config.yaml" in capsys.readouterr().err and not (run / "config.yaml").exists()
    save_config(ExperimentConfig(), str(run / "config.yaml"))
    assert main(args + ["--out", str(tmp_path / "sweep.json")]) == 0
    serving = load_config(str(run / "config.yaml")).serving
    assert serving.score_threshold == 0.15 and serving.priority_score == 0.15
    assert serving.max_detections == 12
    assert json.load(open(tmp_path / "sweep.json"))["best_threshold"] == 0.15
    assert "best F1: score threshold 0.15" in capsys.readouterr().out


def test_evaluate_cli_keeps_the_models_serving_settings_under_the_score_floor(tmp_path):
    """COCO-standard AP lowers the score floor and widens the slots; the rest of the
    model's `serving:` section (here its priority score and grid) stays."""
    import dataclasses

    from portrait_garden.cli import main
    from portrait_garden.configs import ExperimentConfig, ServingConfig, save_config
    from tests.conftest import tiny_segmenter

    write_coco_set(tmp_path / "coco")
    run = tmp_path / "run"
    run.mkdir()
    tiny_segmenter(detector=True).save(str(run / "best.keras"))
    save_config(dataclasses.replace(ExperimentConfig(), serving=ServingConfig(
        score_threshold=0.3, priority_score=0.3, grid=(8, 8))), str(run / "config.yaml"))
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--model", str(run / "best.keras"), "--dataset",
                 str(tmp_path / "coco"), "--out", str(out)]) == 0
    serving = json.load(open(out))["serving_config"]
    assert serving["score_threshold"] == 0.05 and serving["max_detections"] == 16
    assert serving["priority_score"] == 0.3 and serving["grid"] == [8, 8]
