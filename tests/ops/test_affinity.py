import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.ops import group_instances


def _scene(people, size=128, seed=0):
    """People are (box yxyx in pixels, colour); later people are in front. Each person
    fills its box except a margin at the top, so boxes overlap where people do."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 70.0) + rng.normal(0, 6, (size, size, 3))
    truth = np.zeros((size, size), np.int32)
    boxes = np.zeros((8, 4), np.float32)
    for k, ((y0, x0, y1, x1), _) in enumerate(people):
        truth[y0:y1, x0:x1] = k + 1
        boxes[k] = np.array([y0, x0, y1, x1]) / size
    for k, (_, colour) in enumerate(people):
        region = truth == k + 1
        image[region] = np.array(colour) + rng.normal(0, 8, (region.sum(), 3))
    valid = np.arange(8) < len(people)
    return (np.clip(image, 0, 255).astype(np.float32), truth, boxes, valid,
            (truth > 0).astype(np.float32))


def _mean_instance_iou(pred, truth, n):
    ious = []
    for k in range(1, n + 1):
        p, t = pred == k, truth == k
        ious.append((p & t).sum() / max((p | t).sum(), 1))
    return float(np.mean(ious))


SCENES = {
    "two people, one in front": [((20, 20, 128, 70), (200, 40, 40)),
                                 ((40, 55, 128, 110), (40, 60, 210))],
    "three people in a row": [((10, 5, 128, 55), (220, 200, 40)),
                              ((30, 40, 128, 90), (40, 180, 60)),
                              ((20, 75, 128, 125), (150, 40, 160))],
}


@pytest.mark.parametrize("name", sorted(SCENES))
def test_affinity_beats_the_box_baseline_on_overlaps(name):
    people = SCENES[name]
    image, truth, boxes, valid, prob = _scene(people)
    scores = {}
    for mode in ("box", "affinity"):
        pred = group_instances(tf.constant(prob), tf.constant(boxes), tf.constant(valid),
                               tf.constant(image), mode=mode).numpy()
        scores[mode] = _mean_instance_iou(pred, truth, len(people))
    assert scores["affinity"] >= scores["box"] + 0.05, scores
    assert scores["affinity"] > 0.95, scores


def test_background_stays_background_and_every_person_pixel_is_owned():
    image, truth, boxes, valid, prob = _scene(SCENES["two people, one in front"])
    pred = group_instances(tf.constant(prob), tf.constant(boxes), tf.constant(valid),
                           tf.constant(image)).numpy()
    assert (pred[truth == 0] == 0).all()
    assert (pred[truth > 0] > 0).all()
    assert set(np.unique(pred)) == {0, 1, 2}


def test_no_detection_means_no_instance():
    image, _, boxes, _, prob = _scene(SCENES["two people, one in front"])
    pred = group_instances(tf.constant(prob), tf.constant(boxes), tf.zeros([8], tf.bool),
                           tf.constant(image)).numpy()
    assert not pred.any()


def test_features_are_used_when_given():
    image, truth, boxes, valid, prob = _scene(SCENES["two people, one in front"])
    # Features that separate the two people perfectly; colour made useless (grey).
    features = np.zeros((64, 64, 4), np.float32)
    small = truth[::2, ::2]
    features[small == 1, 0] = 1.0
    features[small == 2, 1] = 1.0
    features[small == 0, 2] = 1.0
    grey = np.full_like(image, 128.0)
    pred = group_instances(tf.constant(prob), tf.constant(boxes), tf.constant(valid),
                           tf.constant(grey), tf.constant(features)).numpy()
    assert _mean_instance_iou(pred, truth, 2) > 0.9


def test_unknown_mode():
    image, _, boxes, valid, prob = _scene(SCENES["two people, one in front"])
    with pytest.raises(ValueError, match="grouping mode"):
        group_instances(prob, boxes, valid, image, mode="magic")


@pytest.mark.parametrize("mode", ["affinity", "box"])
def test_a_weak_box_takes_no_pixel_a_priority_box_covers(mode):
    """A second, weaker box on the lower half of one person (a duplicate the detector
    gives at a low score) splits that person without priority; with the first box as
    priority it keeps only person pixels outside the first box."""
    image, truth, boxes, valid, prob = _scene([((20, 20, 100, 70), (200, 40, 40))])
    boxes[1] = np.array([60, 10, 120, 80]) / 128      # duplicate, reaching below the person
    prob[100:120, 30:60] = 1.0                        # person pixels only the weak box covers
    valid = np.arange(8) < 2
    common = dict(image=tf.constant(image), mode=mode)
    plain = group_instances(tf.constant(prob), tf.constant(boxes), tf.constant(valid),
                            **common).numpy()
    first = group_instances(tf.constant(prob), tf.constant(boxes), tf.constant(valid),
                            priority=tf.constant(np.arange(8) == 0), **common).numpy()
    inside = truth == 1
    assert (plain[inside] == 2).any()                 # without priority, the split
    assert (first[inside] == 1).all()                  # the priority box keeps its person
    assert (first[100:120, 30:60] == 2).all()          # the weak box gets what is left
