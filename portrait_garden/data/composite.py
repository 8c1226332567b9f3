"""Multi-person composites: copy-paste person cut-outs onto other photos.

The affinity model exists for people whose boxes overlap, and the real
instance sets hold only 170 images; composites manufacture such scenes with
exact instance labels. Generation is NumPy on the host, seeded, deterministic.
"""

import numpy as np
from PIL import Image

from portrait_garden.data.readers import IGNORE, MAX_INSTANCES, Example


def extract_cutouts(examples, min_pixels=400):
    """Person cut-outs `(rgb [h, w, 3], mask [h, w] bool, touches_bottom)` from examples.

    Every labelled person (id 1..N) with at least `min_pixels` pixels becomes one
    cut-out, cropped to its box. `touches_bottom` marks people cut by the lower
    image border (half-body portraits), which are pasted standing on the lower
    border of the composite so they do not float.
    """
    cutouts = []
    for ex in examples:
        for pid in np.unique(ex.labels):
            if pid == 0 or pid == IGNORE:
                continue
            m = ex.labels == pid
            if m.sum() < min_pixels:
                continue
            ys, xs = np.nonzero(m)
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            cutouts.append((ex.image[y0:y1, x0:x1].copy(), m[y0:y1, x0:x1].copy(),
                            bool(y1 >= m.shape[0] - 2)))
    return cutouts


def _resize(array, size, resample):
    return np.asarray(Image.fromarray(array).resize((size[1], size[0]), resample))


def composite_example(background, cutouts, rng, num_persons=(2, 4), height_range=(0.45, 0.95),
                      overlap_probability=0.7, example_id="composite"):
    """Pastes `num_persons` random cut-outs onto one background.

    Args:
      background: `Example` (its own labelled persons are kept and may be
        occluded) or an RGB uint8 array (a person-free photo).
      cutouts: list from `extract_cutouts`.
      rng: `np.random.Generator`.
      num_persons: `(min, max)` persons to paste, inclusive.
      height_range: person height as a fraction of the canvas height.
      overlap_probability: chance that a pasted person is placed next to the
        previous one so that their boxes overlap.
      example_id: str.

    Returns:
      `Example` with an exact instance label map: later pastes occlude earlier
      people; persons left with no visible pixel are dropped and ids are
      renumbered 1..N.
    """
    if not cutouts:
        raise ValueError("composite_example needs at least one person cut-out.")
    canvas, labels = _canvas(background)
    H, W = labels.shape
    next_id = int(labels[labels != IGNORE].max(initial=0)) + 1
    prev = None
    for _ in range(int(rng.integers(num_persons[0], num_persons[1] + 1))):
        if next_id > MAX_INSTANCES:
            break
        rgb, mask, bottom = cutouts[int(rng.integers(len(cutouts)))]
        h = max(8, int(H * rng.uniform(*height_range)))
        w = max(4, int(round(mask.shape[1] * h / mask.shape[0])))
        if w > W:
            h, w = max(8, int(h * W / w)), W
        if prev is not None and rng.uniform() < overlap_probability:
            px, pw = prev
            x = int(px + pw * rng.uniform(0.25, 0.75) * rng.choice([-1, 1]))
        else:
            x = int(rng.integers(-w // 4, max(W - 3 * w // 4, -w // 4 + 1)))
        y = H - h if bottom else int(rng.integers(0, max(H - h, 0) + 1))
        if not _paste(canvas, labels, rgb, mask, (h, w), x, y, next_id):
            continue
        next_id += 1
        prev = (x, w)
    return Example(example_id, canvas, _renumber(labels, next_id), "composite")


def _canvas(background):
    """`(rgb, labels)` copies to paste on: an `Example`'s own, or a photo with no person."""
    if isinstance(background, Example):
        return background.image.copy(), background.labels.copy()
    canvas = np.asarray(background, np.uint8).copy()
    return canvas, np.zeros(canvas.shape[:2], np.uint8)


def _paste(canvas, labels, rgb, mask, size, x, y, person_id):
    """Resizes a cut-out to `size` `(h, w)` and pastes it with its top-left corner at
    `(x, y)`, clipped to the canvas; False (nothing pasted) if under 4 px remain."""
    H, W = labels.shape
    h, w = size
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, W), min(y + h, H)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return False
    rgb = _resize(rgb, (h, w), Image.BILINEAR)
    mask = _resize(mask.astype(np.uint8) * 255, (h, w), Image.NEAREST) > 127
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
    canvas[y0:y1, x0:x1][m] = rgb[y0 - y:y1 - y, x0 - x:x1 - x][m]
    labels[y0:y1, x0:x1][m] = person_id
    return True


def _renumber(labels, next_id):
    """Drops fully occluded persons (ids below `next_id` with no pixel left) and
    renumbers the rest 1..N; `IGNORE` stays."""
    out = np.where(labels == IGNORE, IGNORE, 0).astype(np.uint8)
    new_id = 1
    for pid in range(1, next_id):
        m = labels == pid
        if m.any():
            out[m] = new_id
            new_id += 1
    return out


def row_composite(background, cutouts, rng, num_persons=(3, 7), height_range=(0.2, 0.6),
                  gap_range=(-0.15, 0.1), example_id="composite"):
    """People side by side, as in a team photo: `num_persons` cut-outs of one kind
    (all full-body or all cut by the lower border) at similar scale (+-10%), standing
    on one baseline, left to right, each starting `gap_range` x the previous
    person's width after that person's right edge (negative: shoulders overlap).

    Cluster composites (`composite_example`) pile 2-4 large people on top of each
    other; a row teaches the detector one centre per person where people stand
    shoulder to shoulder, instead of one for the group.

    Args:
      background: `Example` (its labelled persons are kept and may be occluded) or
        an RGB uint8 array.
      cutouts: list from `extract_cutouts`.
      rng: `np.random.Generator`.
      num_persons: `(min, max)` persons, inclusive. Defaults to `(3, 7)`.
      height_range: the row's person height as a fraction of the canvas height.
        Defaults to `(0.2, 0.6)`.
      gap_range: `(min, max)` gap between neighbours as a fraction of the left
        one's width. Defaults to `(-0.15, 0.1)`.
      example_id: str.

    Returns:
      `Example` with an exact instance label map (later, right-hand people occlude
      where they overlap; persons with no visible pixel are dropped, ids renumbered).
    """
    if not cutouts:
        raise ValueError("row_composite needs at least one person cut-out.")
    canvas, labels = _canvas(background)
    H, W = labels.shape
    first = cutouts[int(rng.integers(len(cutouts)))]
    kind = [c for c in cutouts if c[2] == first[2]]
    n = int(rng.integers(num_persons[0], num_persons[1] + 1))
    height = H * rng.uniform(*height_range)
    base = H if first[2] else int(H * rng.uniform(0.75, 1.0))
    people = []
    for _ in range(n):
        rgb, mask, _ = kind[int(rng.integers(len(kind)))]
        h = max(8, min(base, int(height * rng.uniform(0.9, 1.1))))
        w = max(4, min(W, int(round(mask.shape[1] * h / mask.shape[0]))))
        people.append((rgb, mask, h, w))
    gaps = [rng.uniform(*gap_range) for _ in people[1:]]
    total = sum(p[3] for p in people) + sum(g * p[3] for g, p in zip(gaps, people))
    x = int(rng.integers(min(0, W - int(total)), max(W - int(total), 0) + 1))
    next_id = int(labels[labels != IGNORE].max(initial=0)) + 1
    for i, (rgb, mask, h, w) in enumerate(people):
        if next_id > MAX_INSTANCES:
            break
        if _paste(canvas, labels, rgb, mask, (h, w), x, base - h, next_id):
            next_id += 1
        if i < len(gaps):
            x += int(round(w * (1.0 + gaps[i])))
    return Example(example_id, canvas, _renumber(labels, next_id), "composite")


def person_free_background(example, min_fraction=0.25):
    """The widest full-height strip of a photo with no labelled person (and no ignore
    region), mirrored out to the photo's width: a background for a row of people that
    does not cut through the photo's own subject. None when the strip is narrower
    than `min_fraction` of the width."""
    free = np.concatenate([[0], ~(example.labels != 0).any(axis=0), [0]]).astype(np.int8)
    edges = np.diff(free)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    W = example.labels.shape[1]
    if not len(starts):
        return None
    widths = ends - starts
    longest = len(widths) - 1 - int(np.argmax(widths[::-1]))   # the rightmost of equals
    width, x0 = int(ends[longest] - starts[longest]), int(starts[longest])
    if width < max(min_fraction * W, 1):
        return None
    strip = example.image[:, x0:x0 + width]
    while strip.shape[1] < W:
        strip = np.concatenate([strip, strip[:, ::-1]], axis=1)
    return np.ascontiguousarray(strip[:, :W])


def _row_background(backgrounds, rng, tries=20):
    """A person-free background for a row composite: a photo without labels, or a
    person-free strip of a labelled one (`person_free_background`); after `tries`
    photos with no such strip, the last one with its persons kept."""
    for _ in range(tries):
        background = backgrounds[int(rng.integers(len(backgrounds)))]
        if not isinstance(background, Example):
            return background
        free = person_free_background(background)
        if free is not None:
            return free
    return background


def make_composites(cutouts, backgrounds, count, seed=0, row_fraction=0.0, **kwargs):
    """`count` composites, deterministic for a given `seed`.

    Args:
      cutouts: list from `extract_cutouts`.
      backgrounds: list of `Example`s or RGB arrays (person-free photos, or
        photos whose labelled people are kept).
      count: int.
      seed: int. Defaults to 0.
      row_fraction: share of the composites laid out as a row of people side by
        side (`row_composite`, on a person-free background: `person_free_background`);
        the rest are clusters (`composite_example`).
        Defaults to 0 (the random stream is then that of earlier releases).
      **kwargs: passed to `composite_example`.

    Returns:
      list of `Example`.
    """
    if not backgrounds:
        raise ValueError("make_composites needs at least one background image.")
    if not 0.0 <= row_fraction <= 1.0:
        raise ValueError(f"row_fraction must be in [0, 1], got {row_fraction}.")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        background = backgrounds[int(rng.integers(len(backgrounds)))]
        name = f"composite_{seed}_{i}"
        if row_fraction and rng.uniform() < row_fraction:
            out.append(row_composite(_row_background(backgrounds, rng), cutouts, rng,
                                     example_id=name))
        else:
            out.append(composite_example(background, cutouts, rng, example_id=name, **kwargs))
    return out
