"""Resampling between a photo of any size and the network's canvas, in TF ops that
convert to builtin TFLite ops: the letterbox (photo -> canvas) and its undo (canvas
outputs -> photo). Used by the serving graph, evaluation and the benchmark."""

import tensorflow as tf

from portrait_garden.configs.schema import ServingConfig

DEFAULT_RESIZE_TAPS = ServingConfig.resize_taps
"""Taps per axis of the letterbox's reduction filter (see `letterbox`)."""


def filter_taps(n_out, n_padded, start, n, taps):
    """The reduction filter along one axis: photo indices and weights `[n_out, taps]`.

    Output pixel `i` of `n_out` covers the padded span `n_padded` (the photo's `n`
    pixels start at `start` in it; the rest is zero padding). Its weights are a
    triangle (bilinear) filter widened by the reduction factor, normalised over
    the padded span, as PIL's antialiased `resize(..., BILINEAR)`, which the
    training readers use. When the footprint (2 x factor pixels) has more pixels
    than `taps`, the taps are spread evenly over it: a sparser average, still
    far from the aliasing of two taps. Upscaling gives plain bilinear (2 taps).
    Taps in the padding count in the normalisation but add nothing (the padding
    is zeros).
    """
    scale = tf.cast(n_padded, tf.float32) / n_out
    support = tf.maximum(scale, 1.0)
    centre = (tf.range(n_out, dtype=tf.float32) + 0.5) * scale
    step = tf.maximum(1.0, 2.0 * support / taps)
    first = tf.floor(centre - support + 0.5)
    j = tf.expand_dims(first, 1) + tf.expand_dims(
        tf.floor(tf.range(taps, dtype=tf.float32) * step), 0)
    weight = tf.maximum(0.0, 1.0 - tf.abs(j + 0.5 - tf.expand_dims(centre, 1)) / support)
    weight = tf.where((j >= 0.0) & (j < tf.cast(n_padded, tf.float32)), weight, 0.0)
    weight = weight / tf.reduce_sum(weight, axis=1, keepdims=True)
    index = tf.cast(j, tf.int32) - start
    inside = (index >= 0) & (index < n)
    return tf.clip_by_value(index, 0, n - 1), tf.where(inside, weight, 0.0)


def letterbox(image, size, taps=DEFAULT_RESIZE_TAPS):
    """Fits a uint8 batch-1 photo of any size into `size`, centred, zero padded.

    Equal (to float rounding) to zero-padding the photo to the aspect ratio of
    `size` and resizing it with a bilinear filter that is widened by the
    reduction factor, as PIL's antialiased resize (what the training readers
    use), with `taps` taps per axis (`filter_taps`). It is exact while the
    reduction is at most `taps / 2` (2x with the default 4 taps, 8x with 16); a
    1920-pixel photo into 256 (7.5x) is then averaged over 4 x 4 spread taps
    instead of 2 x 2 neighbours. Upscaling is plain bilinear.

    Computed with row GATHERs from the uint8 photo, then the same along the
    other axis on the transposed rows: only the `taps` photo rows each canvas row
    needs are read and converted to float, so the cost grows with `taps` and the
    photo's width, not its area. A GATHER on axis 0 copies whole rows; on axis 1
    TFLite copies one pixel at a time, so transposing first halves the letterbox's
    time for a 256x256 photo in TFLite (1.73 -> 0.81 ms; 6.0 ms both ways at
    1080x1920; `results/pipeline_profile/findings.md`). Every true area filter
    tried (cumulative sums, reshape + mean, average-pool pyramids) took 3-15x
    longer in TFLite on this CPU.

    Args:
      image: uint8 `[1, h, w, 3]`.
      size: `(H, W)` of the network.
      taps: int >= 2, filter taps per axis. Defaults to `DEFAULT_RESIZE_TAPS`.

    Returns:
      `(canvas, window)`: float32 `[1, H, W, 3]` in [0, 255]; int32 scalars
      `(oy, ox, nh, nw)`, where the photo sits in the canvas (to the nearest
      pixel).
    """
    if int(taps) < 2:
        raise ValueError(f"letterbox needs at least 2 taps per axis, got {taps}.")
    H, W = size
    h, w = tf.shape(image)[1], tf.shape(image)[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    scale = tf.minimum(H / hf, W / wf)
    # The padded photo: (ph, pw), the photo at (top, left) in it.
    ph = tf.maximum(tf.cast(tf.round(H / scale), tf.int32), h)
    pw = tf.maximum(tf.cast(tf.round(W / scale), tf.int32), w)
    top, left = (ph - h) // 2, (pw - w) // 2
    y_index, y_weight = filter_taps(H, ph, top, h, taps)
    x_index, x_weight = filter_taps(W, pw, left, w, taps)
    photo = tf.reshape(image, tf.stack([h, w, 3]))
    # Rows first: gathering whole rows is a copy per row.
    rows = 0.0
    for k in range(taps):
        rows += (tf.cast(tf.gather(photo, y_index[:, k]), tf.float32)
                 * tf.reshape(y_weight[:, k], [H, 1, 1]))
    columns = tf.transpose(rows, [1, 0, 2])                       # [w, H, 3]
    canvas = 0.0
    for k in range(taps):
        canvas += tf.gather(columns, x_index[:, k]) * tf.reshape(x_weight[:, k], [W, 1, 1])
    canvas = tf.transpose(canvas, [1, 0, 2])                      # [H, W, 3]
    sy, sx = H / tf.cast(ph, tf.float32), W / tf.cast(pw, tf.float32)
    oy = tf.cast(tf.round(tf.cast(top, tf.float32) * sy), tf.int32)
    ox = tf.cast(tf.round(tf.cast(left, tf.float32) * sx), tf.int32)
    nh = tf.clip_by_value(tf.cast(tf.round(hf * sy), tf.int32), 1, H - oy)
    nw = tf.clip_by_value(tf.cast(tf.round(wf * sx), tf.int32), 1, W - ox)
    return tf.reshape(canvas, [1, H, W, 3]), (oy, ox, nh, nw)


def upsample_nearest(x, factor):
    """`[h, w]` -> `[h * factor, w * factor]` by repetition (one broadcast multiply;
    TFLite's nearest-neighbour resize is several times slower)."""
    h, w = x.shape
    tiled = tf.reshape(x, [h, 1, w, 1]) * tf.ones([1, factor, 1, factor], x.dtype)
    return tf.reshape(tiled, [h * factor, w * factor])




def sample_index(n_out, n_in, offset):
    """Where output pixels `0..n_out-1` sample an input span of `n_in` pixels starting
    at `offset` (half-pixel centres, like `tf.image.resize`): `(nearest, lower,
    upper, fraction)` for nearest and bilinear sampling."""
    scale = tf.cast(n_in, tf.float32) / tf.cast(n_out, tf.float32)
    centre = (tf.range(n_out, dtype=tf.float32) + 0.5) * scale
    nearest = tf.minimum(tf.cast(centre, tf.int32), n_in - 1) + offset
    pos = tf.clip_by_value(centre - 0.5, 0.0, tf.cast(n_in - 1, tf.float32))
    lower = tf.cast(pos, tf.int32)
    fraction = pos - tf.cast(lower, tf.float32)
    upper = tf.minimum(lower + 1, n_in - 1)
    return nearest, lower + offset, upper + offset, fraction


def guided_coefficients(prob, canvas, window, radius, eps, scale=2):
    """A fast guided filter's linear model of the person probability (He & Sun 2015,
    "Fast Guided Filter"), on cells of `scale x scale` network pixels.

    In each `(2 radius + 1)`-cell box of the letterbox window the cells' probability is
    fitted as `a * grey + b` (grey: the mean of RGB in [0, 1]); `a` and `b` are then
    averaged over the same boxes. Interpolated to the photo and applied to the photo's
    own grey levels (`undo_letterbox(..., refine=...)`), the mask's outline follows the
    photo's edges instead of the bilinear blur of a 256-pixel map. Box means are
    weighted by each cell's share of the letterbox window, so the padding counts
    nowhere (cells on the window's edge take the probability of their whole cell).
    Fitting on cells keeps it cheap: at full 256x256 resolution with 9x9 boxes it took
    about 18 ms in TFLite on one thread; on 2x2 cells with radius 1, about 1.4 ms; on
    4x4 cells, 0.4 ms (too coarse for small people, `results/guided/findings.md`).

    Args:
      prob: float32 `[H, W]` person probability.
      canvas: float32 `[1, H, W, 3]` in [0, 255], the letterboxed photo.
      window: int32 scalars `(oy, ox, nh, nw)` from `letterbox`.
      radius: int >= 1, box radius in cells.
      eps: float > 0, regularisation of the fit (larger: closer to the plain mean).
      scale: int >= 1 dividing `H` and `W`, the cell size. Defaults to 2.

    Returns:
      float32 `[H / scale, W / scale, 2]`: `a` and `b` per cell.
    """
    H, W = prob.shape
    h, w = H // scale, W // scale
    oy, ox, nh, nw = window

    def share(n, start, length):        # each cell's fraction inside [start, start + length)
        low = tf.range(n, dtype=tf.float32) * scale
        start, end = tf.cast(start, tf.float32), tf.cast(start + length, tf.float32)
        return tf.clip_by_value(tf.minimum(low + scale, end) - tf.maximum(low, start),
                                0.0, float(scale)) / scale

    mask = tf.reshape(tf.reshape(share(h, oy, nh), [h, 1]) * tf.reshape(share(w, ox, nw), [1, w]),
                      [1, h, w, 1])
    cells = canvas if scale == 1 else tf.nn.avg_pool2d(canvas, scale, scale, "VALID")
    # The padding is black: a cell's mean over its window pixels is its mean / its share.
    grey = tf.reduce_mean(cells, axis=-1, keepdims=True) / (255.0 * tf.maximum(mask, 1e-6))
    p = tf.reshape(prob, [1, H, W, 1])
    p = p if scale == 1 else tf.nn.avg_pool2d(p, scale, scale, "VALID")
    size = 2 * int(radius) + 1

    def box(x):
        return tf.nn.avg_pool2d(x, size, 1, "SAME")

    count = tf.maximum(box(mask), 1e-6)          # 0 only far outside the window
    stats = box(tf.concat([grey, p, grey * p, grey * grey], -1) * mask) / count
    mean_i, mean_p, corr_ip, corr_ii = tf.split(stats, 4, axis=-1)
    a = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return tf.reshape(box(tf.concat([a, b], -1) * mask) / count, [h, w, 2])


def _cell_index(n_out, n_in, offset, scale, n_cells):
    """Where output pixels `0..n_out-1` (spanning canvas pixels `offset .. offset +
    n_in`) fall between cell centres of `scale`-pixel cells: `(lower, upper,
    fraction)` for bilinear sampling."""
    centre = (tf.cast(offset, tf.float32) + (tf.range(n_out, dtype=tf.float32) + 0.5)
              * tf.cast(n_in, tf.float32) / tf.cast(n_out, tf.float32))
    pos = tf.clip_by_value(centre / scale - 0.5, 0.0, float(n_cells - 1))
    lower = tf.cast(pos, tf.int32)
    return lower, tf.minimum(lower + 1, n_cells - 1), pos - tf.cast(lower, tf.float32)


def _resize_window(x, y0, y1, fy, x0, x1, fx):
    """Two-tap bilinear resize of an `[H, W]` map by column then row GATHERs.

    The columns are gathered as rows of the transposed map (TFLite's GATHER on axis 1
    copies one element at a time): the same values, 4x faster for a 256x256 photo and
    1.4x at 1080x1920 (`results/pipeline_profile/findings.md`).
    """
    transposed = tf.transpose(x)
    left, right = tf.gather(transposed, x0), tf.gather(transposed, x1)
    cols = tf.transpose(left + (right - left) * tf.expand_dims(fx, 1))
    top, bottom = tf.gather(cols, y0), tf.gather(cols, y1)
    return top + (bottom - top) * tf.expand_dims(fy, 1)


def undo_letterbox(labels, boxes, scores, num, prob, window, photo_size, threshold=None,
                   refine=None):
    """Maps network-resolution results back to the photo (see `InstanceSegmenter`).

    With `threshold`, `labels` is the owner map of `instances_from_outputs(...,
    threshold=False)`: a photo pixel's person comes from the nearest network
    pixel, and whether it is a person pixel at all from the photo-resolution
    bilinear probability `> threshold`. Mask edges are then as smooth as
    `person_probability` at any photo size, not stair-stepped by the network's
    resolution (about 7 px at 1080x1920), and `instance_labels > 0` equals
    `person_probability > threshold` wherever a person owns the neighbourhood.

    The crop of the letterbox window and the resize to the photo's size are
    one set of column then row GATHERs (nearest for labels, two-tap bilinear
    for the probability, equal to `tf.image.resize` to 1e-6). Columns first, at
    network height, so the full-resolution work is whole-row copies and one
    interpolation. A strided-slice crop plus a RESIZE_BILINEAR to a
    data-dependent size took ~1.2 ms at 256x256 on one thread.

    With `refine=(coefficients, photo)` (`guided_coefficients`, per cell, and the uint8
    photo `[1, h, w, 3]`), `person_probability` is the guided filter's `a * grey + b` at
    photo resolution (`a`, `b` interpolated bilinearly between cell centres), clipped to
    [0, 1], instead of the bilinear probability.
    """
    oy, ox, nh, nw = window
    h, w = photo_size[0], photo_size[1]
    y_near, y0, y1, fy = sample_index(h, nh, oy)
    x_near, x0, x1, fx = sample_index(w, nw, ox)
    labels = tf.gather(tf.transpose(tf.gather(tf.transpose(labels), x_near)), y_near)
    if refine is None:
        person_probability = _resize_window(prob, y0, y1, fy, x0, x1, fx)
    else:
        coefficients, photo = refine
        cell = prob.shape[0] // coefficients.shape[0]
        cy0, cy1, cfy = _cell_index(h, nh, oy, cell, coefficients.shape[0])
        cx0, cx1, cfx = _cell_index(w, nw, ox, cell, coefficients.shape[1])
        # a and b resized as two [h, w] maps: slicing an [h, w, 2] map at photo resolution
        # (STRIDED_SLICE copies element by element) cost more than the resize itself.
        a = _resize_window(coefficients[..., 0], cy0, cy1, cfy, cx0, cx1, cfx)
        b = _resize_window(coefficients[..., 1], cy0, cy1, cfy, cx0, cx1, cfx)
        # Grey as one matrix product ([h * w, 3] x [3, 1]): TFLite's MEAN over the channel
        # axis is about 1.5x slower at photo resolution.
        grey = tf.reshape(tf.matmul(tf.reshape(tf.cast(photo, tf.float32), [-1, 3]),
                                    tf.constant([[1.0 / 765.0]] * 3)), tf.stack([h, w]))
        person_probability = tf.clip_by_value(a * grey + b, 0.0, 1.0)
    if threshold is not None:
        labels = tf.where(person_probability > threshold, labels, tf.zeros_like(labels))
    H, W = prob.shape[0], prob.shape[1]
    offset = tf.cast(tf.stack([oy, ox, oy, ox]), tf.float32)
    extent = tf.cast(tf.stack([nh, nw, nh, nw]), tf.float32)
    size = tf.constant([H, W, H, W], tf.float32)
    photo_boxes = tf.clip_by_value((boxes * size - offset) / extent, 0.0, 1.0)
    has_box = tf.expand_dims(tf.range(boxes.shape[0]) < num, 1)
    return {
        "instance_labels": tf.cast(labels, tf.int32),
        "boxes": tf.where(has_box, photo_boxes, 0.0),
        "scores": scores,
        "num_instances": num,
        "person_probability": person_probability,
    }
