"""The non-parametric affinity model of Zhu et al. (ICME 2019, Sec. 4): which person owns
each person pixel, from boxes, superpixels, colour and decoder features. No learned
parameters; static shapes; TFLite builtins only."""

import numpy as np
import tensorflow as tf

from portrait_garden.ops.superpixels import (
    OFFSETS,
    candidate_index,
    cell_size,
    cell_sums,
    from_cells,
    slic,
    spread_to_pixels,
    to_cells,
    with_zero_row,
)

GROUPINGS = ("affinity", "box")
_NEIGHBOURS = tuple(o for o in OFFSETS if o != (0, 0))


def box_masks(boxes, valid, size):
    """float32 `[H, W, N]`: 1 where pixel centres fall inside valid boxes.

    Args:
      boxes: float32 `[N, 4]` (ymin, xmin, ymax, xmax) normalized.
      valid: bool `[N]`.
      size: `(H, W)`.
    """
    h, w = size
    ys = (tf.range(h, dtype=tf.float32) + 0.5) / h
    xs = (tf.range(w, dtype=tf.float32) + 0.5) / w
    in_y = tf.cast((ys[:, None] >= boxes[None, :, 0]) & (ys[:, None] < boxes[None, :, 2]),
                   tf.float32)                                              # [H, N]
    in_x = tf.cast((xs[:, None] >= boxes[None, :, 1]) & (xs[:, None] < boxes[None, :, 3]),
                   tf.float32)                                              # [W, N]
    return in_y[:, None, :] * in_x[None, :, :] * tf.cast(valid, tf.float32)


def nearest_box_centre(boxes, valid, candidates, size):
    """One-hot `[H, W, N]` of the nearest valid box centre among `candidates` `[H, W, N]`
    (all valid boxes where a pixel has no candidate)."""
    h, w = size
    ys = (tf.range(h, dtype=tf.float32) + 0.5) / h
    xs = (tf.range(w, dtype=tf.float32) + 0.5) / w
    cy = (boxes[:, 0] + boxes[:, 2]) / 2.0
    cx = (boxes[:, 1] + boxes[:, 3]) / 2.0
    dist = tf.square(ys[:, None, None] - cy) + tf.square(xs[None, :, None] - cx)  # [H, W, N]
    validf = tf.cast(valid, tf.float32)
    has_candidate = tf.reduce_sum(candidates, -1, keepdims=True) > 0
    allowed = tf.where(has_candidate, candidates, tf.ones_like(candidates) * validf)
    dist = dist + (1.0 - allowed) * 1e6
    n = boxes.shape[0]
    return tf.one_hot(tf.argmin(dist, axis=-1), n, dtype=tf.float32) * validf


def _neighbour_index(grid):
    """int32 `[K, 8]`: flat index of each cell's 8 neighbours (`_NEIGHBOURS` order); `K`
    (a zero row) outside the grid."""
    centre = OFFSETS.index((0, 0))
    return tf.constant(np.delete(candidate_index(grid), centre, axis=1))


def _neighbours(values, index):
    """`[K, C]` -> `[K, 8, C]` values of each cell's neighbours (zeros outside)."""
    return tf.gather(with_zero_row(values), index)


def _normalize(x, axis=-1):
    return x / tf.maximum(tf.reduce_sum(x, axis, keepdims=True), 1e-9)


def group_instances(person_prob, boxes, valid, image, features=None, mode="affinity",
                    grid=(16, 16), threshold=0.5, iterations=10, colour_sigma=10.0,
                    feature_sigma=0.1, compactness=10.0, slic_iterations=4, priority=None):
    """Assigns every person pixel to one detected person.

    Seeds: person pixels inside exactly one box belong to that person.
    Unknown: person pixels inside two or more boxes, or inside none.

    With `priority`, a pixel that a priority box covers counts as covered by the
    priority boxes only: weaker boxes get the person pixels no priority box covers
    (e.g. a second, low-score box on one player takes nothing from the first).

    `mode="affinity"` (the paper's model): SLIC superpixels (`grid` cells) are
    described by mean Lab colour `c_k` and mean L2-normalized decoder feature
    `f_k`. Between neighbouring superpixels `k, j` that both hold person pixels,

        w_kj = exp(-|c_k - c_j|^2 / (2 colour_sigma^2)) * exp(-(1 - f_k . f_j) / feature_sigma)

    Person distributions are propagated from the seeds (label propagation,
    Zhou et al. 2004), restricted to the persons whose box covers the
    superpixel's person pixels (all persons if none does):

        Y_k <- normalize(seed_fraction_k * Y0_k + sum_j w_kj Y_j) * candidates_k

    for `iterations` rounds, where `Y0_k` is the seed distribution of `k`.
    An unknown pixel takes the most likely person of its superpixel; where no
    seed was reached, the nearest box centre.

    `mode="box"` (baseline): an unknown pixel goes to the nearest centre of
    the boxes covering it (or of all boxes if none covers it).

    Args:
      person_prob: float32 `[H, W]` person probability.
      boxes: float32 `[N, 4]` normalized (ymin, xmin, ymax, xmax), score order.
      valid: bool `[N]`.
      image: float32 `[H, W, 3]` RGB in [0, 255].
      features: optional float32 `[H / s, W / s, C]` decoder features
        (affinity mode), at the grouping resolution or an integer fraction `s`
        of it that divides the superpixel cell size.
      mode: `"affinity"` or `"box"`. Defaults to `"affinity"`.
      grid: superpixel grid; `H`, `W` must be multiples. Defaults to (16, 16).
      threshold: person probability threshold. Defaults to 0.5.
      iterations: propagation rounds. Defaults to 10.
      colour_sigma, feature_sigma: affinity bandwidths. Default to 10.0, 0.1.
      compactness, slic_iterations: SLIC settings. Default to 10.0, 4.
      priority: optional bool `[N]`, the boxes that cover pixels first (e.g. those
        scoring at least `ServingConfig.priority_score`). None: all boxes are equal.

    Returns:
      int32 `[H, W]`: 0 background, `n + 1` for the person in slot `n`.
    """
    if mode not in GROUPINGS:
        raise ValueError(f"grouping mode must be one of {GROUPINGS}, got {mode!r}.")
    h, w = person_prob.shape[0], person_prob.shape[1]
    n = boxes.shape[0]
    person = tf.cast(person_prob > threshold, tf.float32)                  # [H, W]
    in_box = box_masks(boxes, valid, (h, w))                               # [H, W, N]
    if priority is not None:
        first = in_box * tf.cast(priority, tf.float32)
        in_box = tf.where(tf.reduce_sum(first, -1, keepdims=True) > 0, first, in_box)
    cover = tf.reduce_sum(in_box, -1)
    seed = in_box * (person * tf.cast(tf.equal(cover, 1.0), tf.float32))[..., None]
    unknown = person * tf.cast(tf.not_equal(cover, 1.0), tf.float32)
    nearest = nearest_box_centre(boxes, valid, in_box, (h, w))

    if mode == "box":
        choice = nearest
    else:
        _, assignment, lab = slic(image, grid, compactness, slic_iterations)
        cell = cell_size((h, w), grid)
        k_cells = grid[0] * grid[1]
        parts = to_cells(tf.concat([seed, in_box * person[..., None], person[..., None],
                                    tf.ones([h, w, 1])], -1), cell)
        sums = tf.reshape(cell_sums(tf.concat([parts, lab], -1), assignment, grid),
                          [k_cells, -1])
        seeds_k = sums[:, :n]
        covered_k = sums[:, n:2 * n]
        person_k = sums[:, 2 * n:2 * n + 1]
        colour_k = sums[:, 2 * n + 2:2 * n + 5] / tf.maximum(sums[:, 2 * n + 1:2 * n + 2], 1.0)
        validf = tf.cast(valid, tf.float32)
        candidates = tf.cast(covered_k > 0, tf.float32)
        no_candidate = tf.cast(tf.reduce_sum(candidates, -1, keepdims=True) == 0, tf.float32)
        candidates = candidates + no_candidate * validf
        is_person = tf.cast(person_k > 0, tf.float32)
        seed_total = tf.reduce_sum(seeds_k, -1, keepdims=True)
        source = _normalize(seeds_k) * (seed_total / tf.maximum(person_k, 1.0))
        index = _neighbour_index(grid)
        d_colour = tf.reduce_sum(tf.square(colour_k[:, None] - _neighbours(colour_k, index)), -1)
        weights = tf.exp(-d_colour / (2.0 * colour_sigma ** 2))                 # [K, 8]
        if features is not None:
            step = h // features.shape[0]
            if cell % step or w // features.shape[1] != step:
                raise ValueError(f"features {features.shape} must be the grouping size "
                                 f"{(h, w)} divided by a factor of the cell size {cell}.")
            sub = tf.reshape(assignment, [k_cells, cell, cell, 9])[:, ::step, ::step]
            sub = tf.reshape(sub, [k_cells, -1, 9])
            feat_cells = to_cells(tf.cast(features, tf.float32), cell // step)
            feat_k = tf.math.l2_normalize(
                tf.reshape(cell_sums(feat_cells, sub, grid), [k_cells, -1]), axis=-1)
            cos = tf.reduce_sum(feat_k[:, None] * _neighbours(feat_k, index), -1)
            weights = weights * tf.exp(-(1.0 - cos) / feature_sigma)
        weights = (weights * is_person * _neighbours(is_person, index)[..., 0])[..., None]
        y = _normalize(seeds_k)
        for _ in range(iterations):
            spread = tf.reduce_sum(weights * _neighbours(y, index), axis=1)     # [K, N]
            y = _normalize((source + spread) * candidates)
        y_grid = tf.reshape(y, [grid[0], grid[1], n])
        y_pixel = from_cells(spread_to_pixels(y_grid, assignment, grid), grid, cell)
        reached = tf.reduce_sum(y_pixel, -1, keepdims=True) > 1e-6
        propagated = tf.one_hot(tf.argmax(y_pixel, -1), n, dtype=tf.float32)
        choice = tf.where(reached, propagated, nearest)

    owner = seed + unknown[..., None] * choice
    has_owner = tf.reduce_sum(owner, -1) > 0
    return tf.where(has_owner, tf.cast(tf.argmax(owner, -1), tf.int32) + 1, 0)
