"""SLIC superpixels (Achanta et al., TPAMI 2012) as static-shape TF ops.

Every superpixel starts at one cell of a regular `grid_h x grid_w` grid and may
only take pixels of its own cell and the 8 neighbouring cells (the local search
window of SLIC). This fixes the cluster count `K = grid_h * grid_w` and lets the
work run in a *cell-major* layout, `[K, P, C]` with `P` pixels per cell
(`space_to_depth`): the distances of all pixels to their 9 candidate centres and
the centre updates are then two batched matmuls per iteration, which TFLite runs
fast with builtin ops only.

Pixel labels are cell indices `cy * grid_w + cx`. Connectivity is not enforced
(a label can, rarely, be split into pieces).
"""

import numpy as np
import tensorflow as tf

OFFSETS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
"""The 9 candidate cells of a pixel, relative to its own cell; index 4 is itself."""


def rgb_to_lab(rgb):
    """sRGB in [0, 255] -> CIE L*a*b* (D65), float32 `[..., 3]`."""
    x = tf.cast(rgb, tf.float32) / 255.0
    x = tf.where(x > 0.04045, tf.pow((x + 0.055) / 1.055, 2.4), x / 12.92)
    m = tf.constant([[0.412453, 0.212671, 0.019334],
                     [0.357580, 0.715160, 0.119193],
                     [0.180423, 0.072169, 0.950227]], tf.float32)
    xyz = tf.tensordot(x, m, axes=1) / tf.constant([0.950456, 1.0, 1.088754])
    f = tf.where(xyz > 0.008856, tf.pow(tf.maximum(xyz, 1e-6), 1.0 / 3.0),
                 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def cell_size(size, grid):
    """Side of the square cells of `grid` on an image of `size`; checks divisibility."""
    h, w = size
    if h is None or w is None or h % grid[0] or w % grid[1] or h // grid[0] != w // grid[1]:
        raise ValueError(f"Superpixel grid {grid} needs a static image size divisible into "
                         f"square cells; got {size}.")
    return h // grid[0]


def to_cells(x, cell):
    """Image layout `[H, W, C]` -> cell-major `[K, P, C]` (`P = cell * cell`)."""
    h, w, c = x.shape
    k = (h // cell) * (w // cell)
    return tf.reshape(tf.nn.space_to_depth(tf.reshape(x, [1, h, w, c]), cell),
                      [k, cell * cell, c])


def from_cells(x, grid, cell):
    """Cell-major `[K, P, C]` -> image layout `[H, W, C]`."""
    c = x.shape[-1]
    x = tf.reshape(x, [1, grid[0], grid[1], cell * cell * c])
    return tf.reshape(tf.nn.depth_to_space(x, cell), [grid[0] * cell, grid[1] * cell, c])


def candidate_index(grid):
    """int32 `[K, 9]`: flat index of each cell's 9 candidate cells (`OFFSETS` order);
    `K` (the index of an appended zero row) for candidates outside the grid."""
    gh, gw = grid
    index = np.full((gh * gw, len(OFFSETS)), gh * gw, np.int32)
    for i in range(gh):
        for j in range(gw):
            for k, (dy, dx) in enumerate(OFFSETS):
                if 0 <= i + dy < gh and 0 <= j + dx < gw:
                    index[i * gw + j, k] = (i + dy) * gw + (j + dx)
    return index


def with_zero_row(values):
    """`[K, ...]` -> `[K + 1, ...]` with a zero last row (the target of out-of-grid
    indices)."""
    return tf.concat([values, tf.zeros_like(values[:1])], axis=0)


def candidates(grid_values, grid):
    """The values of each cell's 9 candidate cells: `[gh, gw, C]` -> `[K, 9, C]`
    (zeros for candidates outside the grid). One gather (TFLite: GATHER)."""
    c = grid_values.shape[-1]
    flat = with_zero_row(tf.reshape(grid_values, [grid[0] * grid[1], c]))
    return tf.gather(flat, tf.constant(candidate_index(grid)))


def _inside_grid(grid):
    inside = (candidate_index(grid) < grid[0] * grid[1]).astype(np.float32)
    return tf.constant(inside.reshape(grid[0] * grid[1], 1, 9))


def _owner_index(grid):
    """int32 `[K, 9]`: for cell `j` and offset `o`, the flat row `k * 9 + o` of the
    cell `k = j - o` whose pixels with offset `o` belong to `j` (`9K`, a zero row,
    when `k` is outside the grid)."""
    k_cells = grid[0] * grid[1]
    forward = candidate_index(grid)                    # forward[k, o] = k + offset o
    index = np.full((k_cells, 9), 9 * k_cells, np.int32)
    for k in range(k_cells):
        for o in range(9):
            if forward[k, o] < k_cells:
                index[forward[k, o], o] = k * 9 + o
    return index


def cell_sums(values, assignment, grid):
    """Sums per-pixel values into the superpixels the pixels are assigned to.

    Args:
      values: float32 `[K, P, C]` (cell-major, `to_cells`).
      assignment: float32 `[K, P, 9]` one-hot over `OFFSETS` (from `slic`).
      grid: `(grid_h, grid_w)`.

    Returns:
      float32 `[grid_h, grid_w, C]`.
    """
    c = values.shape[-1]
    k_cells = grid[0] * grid[1]
    per_offset = tf.matmul(assignment, values, transpose_a=True)            # [K, 9, C]
    # Pixels of cell k with offset o belong to cell k + o: gather them per owner.
    flat = with_zero_row(tf.reshape(per_offset, [k_cells * 9, c]))
    owned = tf.gather(flat, tf.constant(_owner_index(grid)))                # [K, 9, C]
    return tf.reshape(tf.reduce_sum(owned, axis=1), [grid[0], grid[1], c])


def spread_to_pixels(grid_values, assignment, grid):
    """Each pixel takes the value of the superpixel it is assigned to: `[K, P, C]`."""
    return tf.matmul(assignment, candidates(grid_values, grid))


def _smooth(x):
    """3x3 binomial blur of `[H, W, C]` (SLIC's pre-smoothing against texture noise)."""
    k = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = (k[:, None] * k[None, :])[:, :, None, None] * tf.ones([1, 1, x.shape[-1], 1])
    return tf.reshape(tf.nn.depthwise_conv2d(tf.reshape(x, [1, *x.shape]), kernel, [1, 1, 1, 1],
                                             "SAME"), x.shape)


def slic(image, grid=(16, 16), compactness=10.0, iterations=4):
    """SLIC superpixels of one image, static shapes throughout.

    Args:
      image: float32 `[H, W, 3]` RGB in [0, 255]; square cells: `H / grid_h ==
        W / grid_w`, an integer.
      grid: `(grid_h, grid_w)`, `K = grid_h * grid_w` superpixels. Defaults to
        `(16, 16)`.
      compactness: float, weight of spatial vs Lab distance (`m` in SLIC).
        Defaults to 10.0.
      iterations: int, fixed number of assign/update rounds. Defaults to 4.

    Returns:
      `(labels, assignment, lab_cells)`: int32 `[H, W]` superpixel ids in
      `[0, K)`; float32 `[K, P, 9]` one-hot of each pixel's candidate cell
      (cell-major, for `cell_sums` / `spread_to_pixels`); float32 `[K, P, 3]`
      the smoothed Lab image, cell-major.
    """
    h, w = image.shape[0], image.shape[1]
    cell = cell_size((h, w), grid)
    lab = _smooth(rgb_to_lab(image))
    ys = tf.range(h, dtype=tf.float32)[:, None] * tf.ones([1, w])
    xs = tf.ones([h, 1]) * tf.range(w, dtype=tf.float32)[None, :]
    pos = tf.stack([ys, xs], axis=-1)
    # Scaled so that squared Euclidean distance is the SLIC distance.
    feats = to_cells(tf.concat([lab / compactness, pos / float(cell)], axis=-1), cell)
    ones = tf.ones_like(feats[..., :1])
    centres = tf.reshape(tf.nn.avg_pool2d(tf.reshape(from_cells(feats, grid, cell), [1, h, w, 5]),
                                          cell, cell, "VALID"), [grid[0], grid[1], 5])
    outside = (1.0 - _inside_grid(grid)) * 1e4                              # [K, 1, 9]
    assignment = None
    for _ in range(iterations):
        cand = candidates(centres, grid)                                    # [K, 9, 5]
        dot = tf.matmul(feats, cand, transpose_b=True)                      # [K, P, 9]
        norm = tf.reduce_sum(tf.square(cand), -1)[:, None, :]               # [K, 1, 9]
        dist = norm - 2.0 * dot + outside
        assignment = tf.one_hot(tf.argmin(dist, axis=-1), 9, dtype=tf.float32)
        sums = cell_sums(tf.concat([feats, ones], -1), assignment, grid)
        count = sums[..., -1:]
        centres = tf.where(count > 0, sums[..., :-1] / tf.maximum(count, 1.0), centres)
    cell_index = tf.reshape(tf.range(grid[0] * grid[1], dtype=tf.float32),
                            [grid[0], grid[1], 1])
    label_cells = spread_to_pixels(cell_index, assignment, grid)             # [K, P, 1]
    labels = tf.cast(tf.round(from_cells(label_cells, grid, cell)[..., 0]), tf.int32)
    return labels, assignment, feats[..., :3] * compactness
