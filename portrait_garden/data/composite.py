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
    if isinstance(background, Example):
        canvas, labels = background.image.copy(), background.labels.copy()
    else:
        canvas = np.asarray(background, np.uint8).copy()
        labels = np.zeros(canvas.shape[:2], np.uint8)
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
        rgb = _resize(rgb, (h, w), Image.BILINEAR)
        mask = _resize(mask.astype(np.uint8) * 255, (h, w), Image.NEAREST) > 127
        if prev is not None and rng.uniform() < overlap_probability:
            px, pw = prev
            x = int(px + pw * rng.uniform(0.25, 0.75) * rng.choice([-1, 1]))
        else:
            x = int(rng.integers(-w // 4, max(W - 3 * w // 4, -w // 4 + 1)))
        y = H - h if bottom else int(rng.integers(0, max(H - h, 0) + 1))
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, W), min(y + h, H)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
        canvas[y0:y1, x0:x1][m] = rgb[y0 - y:y1 - y, x0 - x:x1 - x][m]
        labels[y0:y1, x0:x1][m] = next_id
        next_id += 1
        prev = (x, w)
    # Drop fully occluded persons and renumber.
    out = np.where(labels == IGNORE, IGNORE, 0).astype(np.uint8)
    new_id = 1
    for pid in range(1, next_id):
        m = labels == pid
        if m.any():
            out[m] = new_id
            new_id += 1
    return Example(example_id, canvas, out, "composite")


def make_composites(cutouts, backgrounds, count, seed=0, **kwargs):
    """`count` composites, deterministic for a given `seed`.

    Args:
      cutouts: list from `extract_cutouts`.
      backgrounds: list of `Example`s or RGB arrays (person-free photos, or
        photos whose labelled people are kept).
      count: int.
      seed: int. Defaults to 0.
      **kwargs: passed to `composite_example`.

    Returns:
      list of `Example`.
    """
    if not backgrounds:
        raise ValueError("make_composites needs at least one background image.")
    rng = np.random.default_rng(seed)
    return [composite_example(backgrounds[int(rng.integers(len(backgrounds)))], cutouts, rng,
                              example_id=f"composite_{seed}_{i}", **kwargs)
            for i in range(count)]
