"""Knowledge distillation: a saved teacher's probabilities as extra targets.

The teacher is a frozen sub-model of the training graph: it runs in inference mode
on the same augmented batch as the student, and its terms are added with
`add_loss` to a model that shares every layer (and weight) with the student. The
student's outputs, output names, metrics and checkpoints are unchanged; the trainer
saves the student itself, never the teacher.

Terms (`DistillConfig`):
  mask: T^2 * BCE(sigmoid(student / T), sigmoid(teacher / T)), mean over pixels;
  heatmap: sum over cells of KL(teacher || student) / the teacher's heatmap mass,
    the soft counterpart of the focal loss's division by the number of centres.

Photos without labels (`data.unlabelled`) carry `IGNORE` labels, so the
supervised losses skip them and only these terms train on them.
"""

import os
import time

import tensorflow as tf
import tf_keras as keras


def load_teacher(path, student, heatmap_weight=0.0, log=print):
    """Loads a saved portrait-garden model as a frozen teacher for `student`.

    Raises:
      FileNotFoundError: no file at `path`.
      ValueError: the teacher's input size differs from the student's, it has no
        `mask` output, or a heatmap term is asked for and either model has no
        detector.
    """
    from portrait_garden.saving import load_model

    if not os.path.exists(path):
        raise FileNotFoundError(
            f"distill.teacher names {path}, which does not exist. Point it at a saved "
            "model, e.g. saved_models/portrait_instance_mbv2_100_256/model.keras.")
    teacher = load_model(path)
    teacher.trainable = False
    want, have = tuple(student.input_shape[1:3]), tuple(teacher.input_shape[1:3])
    if want != have:
        raise ValueError(f"distill.teacher {path} takes {have[0]}x{have[1]} images and the "
                         f"student {want[0]}x{want[1]}; use a teacher of the student's "
                         "model.image_size.")
    outputs = teacher.output if isinstance(teacher.output, dict) else {}
    if "mask" not in outputs:
        raise ValueError(f"distill.teacher {path} has no 'mask' output (outputs: "
                         f"{sorted(outputs)}): not a portrait-garden segmenter.")
    if heatmap_weight:
        for who, model in (("teacher " + path, teacher), ("student", student)):
            if "center_heatmap" not in model.output:
                raise ValueError(f"distill.heatmap_weight is {heatmap_weight} but the {who} "
                                 "has no detector; set distill.heatmap_weight: 0 or use "
                                 "models with model.detector: true.")
    log(f"distill.teacher {path}: {teacher.count_params():,} weights, frozen, inference mode")
    return teacher


def mask_term(student_logits, teacher_logits, temperature=1.0):
    """`[B]`: T^2 x mean BCE of the student's softened person probability against the
    teacher's."""
    t = tf.cast(temperature, tf.float32)
    target = tf.sigmoid(tf.cast(teacher_logits, tf.float32) / t)
    ce = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.stop_gradient(target), logits=tf.cast(student_logits, tf.float32) / t)
    return t * t * tf.reduce_mean(ce, [1, 2, 3])


def heatmap_term(student_logits, teacher_logits):
    """`[B]`: KL divergence of the student's centre heatmap from the teacher's (BCE minus
    the teacher's entropy, 0 when they match), summed over cells and divided by the
    teacher's heatmap mass (at least 1)."""
    teacher_logits = tf.stop_gradient(tf.cast(teacher_logits, tf.float32))
    target = tf.sigmoid(teacher_logits)
    ce = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=target, logits=tf.cast(student_logits, tf.float32))
    entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=teacher_logits)
    return tf.reduce_sum(ce - entropy, [1, 2, 3]) / tf.maximum(
        tf.reduce_sum(target, [1, 2, 3]), 1.0)


def distillation_model(student, teacher, mask_weight=1.0, heatmap_weight=1.0,
                       temperature=1.0):
    """A model that shares every layer with `student` and adds the distillation terms.

    Train it in place of the student (`compile` + `fit`); the student's weights
    change with it. Save the student, not this model (it holds the teacher too).

    Returns:
      A functional `keras.Model` with the student's inputs and outputs, its
      `add_loss` terms logged as the metrics `distill_mask` and `distill_heatmap`.
    """
    image = student.input
    taught = teacher(image, training=False)
    model = keras.Model(image, student.output, name=f"{student.name}_distilled")
    outputs = student.output
    if mask_weight:
        term = tf.reduce_mean(mask_term(outputs["mask"], taught["mask"], temperature))
        model.add_loss(mask_weight * term)
        model.add_metric(term, name="distill_mask")
    if heatmap_weight:
        term = tf.reduce_mean(heatmap_term(outputs["center_heatmap"], taught["center_heatmap"]))
        model.add_loss(heatmap_weight * term)
        model.add_metric(term, name="distill_heatmap")
    return model


def teacher_cost(teacher, batch_size, image_size, repeats=3):
    """Seconds of one teacher forward pass on a batch (median of `repeats`, after one
    warm-up), so the run log can say what distillation adds per step."""
    images = tf.random.uniform([batch_size, *image_size, 3], 0.0, 255.0)
    run = tf.function(lambda x: teacher(x, training=False))
    run(images)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), run(images))
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
