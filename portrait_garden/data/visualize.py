"""Pictures of samples: instances in colour, boundary band, boxes (matplotlib)."""

import numpy as np

PALETTE = np.array([
    [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180],
    [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128],
    [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195],
    [128, 128, 0]], np.float32)
"""One colour per person id (cycled)."""


def overlay_instances(image, labels, alpha=0.5, boundary=None):
    """RGB uint8 `[H, W, 3]`: persons tinted one colour each, ignore regions grey,
    and (optionally) a boundary band `[H, W]` drawn white."""
    out = np.asarray(image, np.float32).copy()
    labels = np.asarray(labels)
    for pid in np.unique(labels):
        if pid == 0:
            continue
        m = labels == pid
        colour = np.array([128, 128, 128], np.float32) if pid == 255 else \
            PALETTE[(int(pid) - 1) % len(PALETTE)]
        out[m] = (1 - alpha) * out[m] + alpha * colour
    if boundary is not None:
        out[np.asarray(boundary) > 0.5] = 255.0
    return np.clip(out, 0, 255).astype(np.uint8)


def save_grid(samples, path, columns=4, title=None):
    """Writes a PNG grid of samples.

    Args:
      samples: list of dicts with `image` `[H, W, 3]`, `labels` `[H, W]`, and
        optional `boundary` `[H, W, 1]`, `boxes` `[K, 4]` normalized yxyx,
        `num_instances`, `title`.
      path: str, output PNG.
      columns: int. Defaults to 4.
      title: optional figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, int(np.ceil(len(samples) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, s in zip(axes.ravel(), samples):
        boundary = s.get("boundary")
        if boundary is not None:
            boundary = np.asarray(boundary)[..., 0]
        ax.imshow(overlay_instances(s["image"], s["labels"], boundary=boundary))
        h, w = np.asarray(s["labels"]).shape
        boxes = np.asarray(s.get("boxes", np.zeros((0, 4))))
        for k, (y0, x0, y1, x1) in enumerate(boxes):
            if y1 <= y0 or x1 <= x0:
                continue
            colour = PALETTE[k % len(PALETTE)] / 255.0
            ax.add_patch(plt.Rectangle((x0 * w, y0 * h), (x1 - x0) * w, (y1 - y0) * h,
                                       fill=False, edgecolor=colour, linewidth=1.5))
        if s.get("title"):
            ax.set_title(s["title"], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
