import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import portrait_garden as pg
from portrait_garden.configs import ConfigError, load_config
from portrait_garden.train import train
from portrait_garden.train.distill import distillation_model, heatmap_term, load_teacher, mask_term
from tests.conftest import RECIPES_DIR
from tests.data.conftest import write_portrait_folder

TINY = ["model.image_size=[64, 64]", "model.width_multiplier=0.35", "model.decoder_filters=8",
        "train.batch_size=2", "train.steps_per_epoch=2", "train.warmup_steps=1",
        "train.epochs=1", "train.init_from=", "data.composites=0"]
NO_TEACHER = ["distill.teacher=", "data.unlabelled=[]"]
RECIPE = os.path.join(RECIPES_DIR, "portrait_instance_mbv2_050_256_distill.yaml")


def _grad(term, student, teacher):
    student = tf.Variable(student)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(term(student, teacher))
    return float(value), tape.gradient(value, student).numpy()


def test_terms_are_minimal_where_the_student_matches_the_teacher():
    teacher = tf.random.normal([2, 8, 8, 1], seed=1) * 3.0
    for term in (mask_term, heatmap_term):
        same, grad = _grad(term, teacher, teacher)
        assert np.abs(grad).max() < 1e-5, term.__name__
        other, _ = _grad(term, teacher + tf.random.normal([2, 8, 8, 1], seed=2), teacher)
        assert other > same + 1e-3, term.__name__
    assert abs(_grad(heatmap_term, teacher, teacher)[0]) < 1e-4      # a KL: 0 at the teacher
    # Temperature softens both sides and scales by T^2 (Hinton et al.).
    t2 = float(tf.reduce_sum(mask_term(teacher * 2.0, teacher * 2.0, temperature=2.0)))
    assert t2 == pytest.approx(4.0 * float(tf.reduce_sum(mask_term(teacher, teacher))), rel=1e-5)


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("teacher")
    config = load_config(RECIPE, TINY + NO_TEACHER + ["model.width_multiplier=0.5"])
    model = pg.build_segmenter(config)
    path = str(tmp / "teacher.keras")
    model.save(path)
    return path


@pytest.mark.slow
def test_distillation_trains_the_student_and_saves_only_it(tmp_path, tiny_teacher):
    folder, photos = tmp_path / "set", tmp_path / "photos" / "images"
    write_portrait_folder(folder, n=4, size=(48, 64))
    photos.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((40, 50, 3), 90 * i, np.uint8)).save(photos / f"{i}.jpg")
    config = load_config(RECIPE, TINY + [
        f"distill.teacher={tiny_teacher}",
        f"data.train=[{{path: {folder}, split: train}}]",
        f"data.val=[{{path: {folder}, split: val}}]",
        f"data.unlabelled=[{{path: {tmp_path / 'photos'}}}]"])
    messages = []
    out = tmp_path / "run"
    history = train(config, str(out), verbose=0, log=messages.append)
    for key in ("distill_mask", "distill_heatmap", "val_distill_mask", "val_mask_person_iou"):
        assert key in history.history, key
    assert any("photos (unlabelled): 3 examples read" in m for m in messages)
    assert any(m.startswith("distill: the teacher's forward pass costs") for m in messages)
    student = pg.build_segmenter(config)
    for name in ("last.keras", "best.keras"):
        saved = pg.load_model(str(out / name))
        assert saved.count_params() == student.count_params(), name   # no teacher inside
    # Only the student's weights train; the teacher's are frozen.
    model = pg.build_segmenter(config)
    trained = distillation_model(model, load_teacher(tiny_teacher, model, 1.0, log=len))
    assert {v.ref() for v in trained.trainable_weights} == \
        {v.ref() for v in model.trainable_weights}
    assert len(trained.weights) > len(model.weights)


def test_distillation_model_loss_adds_the_weighted_terms(tiny_teacher):
    config = load_config(RECIPE, TINY + NO_TEACHER)
    student = pg.build_segmenter(config)
    teacher = load_teacher(tiny_teacher, student, 1.0, log=len)
    images = tf.random.uniform([2, 64, 64, 3], 0, 255, seed=0)
    plain = distillation_model(student, teacher, 0.0, 0.0)
    weighted = distillation_model(student, teacher, 2.0, 0.5)
    assert not plain.losses
    out_s, out_t = student(images, training=False), teacher(images, training=False)
    weighted(images, training=False)
    expected = (2.0 * float(tf.reduce_mean(mask_term(out_s["mask"], out_t["mask"])))
                + 0.5 * float(tf.reduce_mean(heatmap_term(out_s["center_heatmap"],
                                                          out_t["center_heatmap"]))))
    assert float(tf.add_n(weighted.losses)) == pytest.approx(expected, rel=1e-4)


def test_teacher_errors_name_the_problem(tmp_path, tiny_teacher):
    student = pg.build_segmenter(load_config(RECIPE, TINY + NO_TEACHER))
    with pytest.raises(FileNotFoundError, match="distill.teacher names .*nowhere.keras"):
        load_teacher(str(tmp_path / "nowhere.keras"), student)
    other = pg.build_segmenter(load_config(RECIPE, TINY + NO_TEACHER
                                     + ["model.image_size=[128, 128]"]))
    with pytest.raises(ValueError, match="takes 64x64 images and the student 128x128"):
        load_teacher(tiny_teacher, other)
    segmenter_only = str(tmp_path / "seg.keras")
    pg.build_segmenter(load_config(None, TINY[:3])).save(segmenter_only)
    with pytest.raises(ValueError, match="has no detector; set distill.heatmap_weight: 0"):
        load_teacher(segmenter_only, student, heatmap_weight=1.0)
    with pytest.raises(ConfigError, match="data.unlabelled needs distill.teacher"):
        load_config(RECIPE, ["distill.teacher="])
    with pytest.raises(ConfigError, match="distill.temperature must be > 0"):
        load_config(RECIPE, ["distill.temperature=0"])
