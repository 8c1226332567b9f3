"""`portrait-garden segment`: photos in, per-person masks, overlays and JSON out."""

import contextlib
import dataclasses
import json
import os
import re
import shutil
import tempfile

import numpy as np
from PIL import Image

from portrait_garden.data.photos import PhotoTooLargeError, check_pixel_count, pixel_limit, to_rgb8
from portrait_garden.data.readers import IMAGE_EXTENSIONS, DataError
from portrait_garden.data.visualize import PALETTE, overlay_instances

EFFECTS = ("none", "blur", "replace")


def list_photos(path):
    """A photo file, or the photos of a folder (sorted)."""
    if os.path.isdir(path):
        photos = sorted(os.path.join(path, f) for f in os.listdir(path)
                        if f.lower().endswith(IMAGE_EXTENSIONS))
        if not photos:
            raise DataError(f"{path}: no photos (.jpg/.jpeg/.png) in this folder.")
        return photos
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No photo or folder at {path}.")
    return [path]


def read_photo(path, with_orientation=False, max_pixels=None):
    """uint8 RGB `[H, W, 3]` as a photo viewer shows it (EXIF orientation applied;
    16-bit, palette, CMYK and alpha formats converted to 8-bit RGB).

    Args:
      path: str, the photo file.
      with_orientation: also return the EXIF orientation that was applied (1..8).
      max_pixels: largest width x height decoded; defaults to
        `photos.DEFAULT_MAX_PIXELS` (about 89.5 MP). The header is checked before
        any pixel is decoded.

    Raises:
      DataError: naming the file if it cannot be decoded or is above `max_pixels`
        (the message gives the `--max-pixels` value that would allow it).
    """
    try:
        with pixel_limit(), Image.open(path) as img:
            check_pixel_count(img.size, max_pixels, path)
            img.load()
            rgb, orientation = to_rgb8(img)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except PhotoTooLargeError as e:
        raise DataError(str(e)) from None
    except Image.DecompressionBombError as e:
        raise DataError(f"{path}: {e} Pass --max-pixels to allow a larger image.") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: cannot read this image ({e}).") from None
    photo = np.asarray(rgb)
    return (photo, orientation) if with_orientation else photo


def apply_effect(photo, labels, effect, background=None):
    """Portrait effects: blur or replace everything that is not a person."""
    person = (labels > 0)[..., None]
    if effect == "blur":
        from PIL import ImageFilter

        blurred = np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(12)))
        return np.where(person, photo, blurred).astype(np.uint8)
    if effect == "replace":
        if background is None:
            raise ValueError("--effect replace needs --background IMAGE.")
        bg = np.asarray(Image.fromarray(background).resize(photo.shape[1::-1], Image.BILINEAR))
        return np.where(person, photo, bg).astype(np.uint8)
    return photo


OUTPUT_SUFFIXES = ("_overlay.png", ".json") + tuple(f"_{e}.png" for e in EFFECTS if e != "none")
_PERSON_FILE = re.compile(r"_person\d+\.png$")
LOCK_NAME = ".portrait-garden-segment.lock"


@dataclasses.dataclass
class SegmentRun:
    """What a `segment_photos` call did."""

    summaries: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)   # (path, reason)

    @property
    def persons(self):
        return sum(s["num_persons"] for s in self.summaries)

    def summary_line(self):
        return (f"{len(self.summaries)} photo(s) processed, {len(self.failed)} skipped, "
                f"{self.persons} person(s) found")


def output_stems(paths):
    """One output stem per input photo: the file name without extension, or with the
    extension kept (`x_jpg`, `x_png`) where two inputs share a stem."""
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    counts = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    unique = []
    for path, stem in zip(paths, stems):
        if counts[stem] > 1:
            stem = os.path.basename(path).replace(".", "_")
        unique.append(stem)
    if len(set(unique)) != len(unique):
        raise ValueError("Two input photos map to the same output name even with their "
                         "extensions kept; rename one of them.")
    return unique


def check_output_dir(out_dir):
    """Creates `out_dir` if needed and checks it is a writable folder, before any inference.

    Raises:
      ValueError: `out_dir` is a file, or cannot be created or written.
    """
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(f"--out {out_dir} is an existing file, not a folder; pass a folder "
                         "path (it is created if missing).")
    try:
        os.makedirs(out_dir, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as e:
        raise ValueError(f"--out {out_dir} is not writable ({e.strerror or e}); choose a "
                         "folder you can write to.") from None


@contextlib.contextmanager
def _folder_lock(out_dir):
    """An exclusive lock on the output folder while a photo's files are swapped in, so
    concurrent runs never leave a JSON beside another run's masks."""
    with open(os.path.join(out_dir, LOCK_NAME), "a+") as handle:
        try:
            import fcntl
        except ImportError:      # Windows: staging + rename still keep each file whole
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _previous_outputs(out_dir, stem):
    names = []
    for name in os.listdir(out_dir):
        if not name.startswith(stem):
            continue
        rest = name[len(stem):]
        if rest in OUTPUT_SUFFIXES or _PERSON_FILE.fullmatch(rest):
            names.append(name)
    return names


def _publish(staging, out_dir, stem):
    """Replaces a photo's previous outputs with the staged set: stale files of the stem
    are removed and each new file moves in by an atomic rename, JSON last."""
    new = sorted(os.listdir(staging), key=lambda n: n.endswith(".json"))
    with _folder_lock(out_dir):
        for name in _previous_outputs(out_dir, stem):
            if name not in new:
                os.remove(os.path.join(out_dir, name))
        for name in new:
            os.replace(os.path.join(staging, name), os.path.join(out_dir, name))


def segment_photos(predictor, paths, out_dir, effect="none", background=None, progress=True,
                   skip_bad=False, max_pixels=None):
    """Segments photos and writes, per photo `<stem>`: `<stem>_overlay.png` (one colour
    per person, boxes), `<stem>_person<k>.png` masks, `<stem>.json` (boxes in pixels,
    scores, COCO RLE masks) and, with an effect, `<stem>_<effect>.png`.

    A photo's files are written into a staging folder and then swapped in as a set
    (atomic renames under a folder lock): a photo's stale files from an earlier run
    are removed, an interrupted run leaves every photo either old or new, and
    concurrent runs into one folder never mix. Photos sharing a stem keep their
    extension in the output name (`x_jpg.json`, `x_png.json`).

    Args:
      predictor: object with `predict(photo) -> dict` (e.g. `Predictor`).
      paths: photo files.
      out_dir: output folder (created if missing).
      effect: `"none"`, `"blur"` or `"replace"`.
      background: uint8 RGB for `"replace"`.
      progress: tqdm bar for several photos.
      skip_bad: continue past unreadable photos (listed in `SegmentRun.failed`);
        otherwise the first one raises `DataError` (saying how many were written).
      max_pixels: largest photo decoded (see `read_photo`).

    Returns:
      `SegmentRun` (its `summaries` are per-photo dicts as in the JSON files).
    """
    check_output_dir(out_dir)
    run = SegmentRun()
    stems = output_stems(paths)
    iterator = list(zip(paths, stems))
    if progress and len(paths) > 1:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="segment", unit="photo")
    for path, stem in iterator:
        try:
            photo, orientation = read_photo(path, with_orientation=True, max_pixels=max_pixels)
        except DataError as e:
            if not skip_bad:
                raise DataError(f"{e} {len(run.summaries)} photo(s) before it were written to "
                                f"{out_dir}; pass --skip-bad to continue past unreadable "
                                "photos.") from None
            run.failed.append((path, str(e)))
            continue
        staging = tempfile.mkdtemp(dir=out_dir, prefix=f".staging-{stem}-")
        try:
            summary = _write_photo_outputs(predictor, photo, orientation, path, stem, staging,
                                           effect, background)
            _publish(staging, out_dir, stem)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        run.summaries.append(summary)
    return run


def _write_photo_outputs(predictor, photo, orientation, path, stem, folder, effect, background):
    from pycocotools import mask as mask_utils

    out = predictor.predict(photo)
    labels = out["instance_labels"]
    n = int(out["num_instances"])
    h, w = labels.shape
    overlay = overlay_instances(photo, labels, alpha=0.55)
    people = []
    for k in range(n):
        m = labels == k + 1
        Image.fromarray((m * 255).astype(np.uint8)).save(
            os.path.join(folder, f"{stem}_person{k + 1}.png"))
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        y0, x0, y1, x1 = (out["boxes"][k] * [h, w, h, w]).tolist()
        people.append({"id": k + 1, "score": float(out["scores"][k]),
                       "box_yxyx": [round(v, 1) for v in (y0, x0, y1, x1)],
                       "pixels": int(m.sum()),
                       "mask_rle": {"size": rle["size"],
                                    "counts": rle["counts"].decode("ascii")}})
        colour = PALETTE[k % len(PALETTE)].astype(np.uint8)
        yi0, xi0 = int(max(y0, 0)), int(max(x0, 0))
        yi1, xi1 = int(min(y1, h - 1)), int(min(x1, w - 1))
        overlay[yi0:yi1 + 1, [xi0, xi1]] = colour
        overlay[[yi0, yi1], xi0:xi1 + 1] = colour
    Image.fromarray(overlay).save(os.path.join(folder, f"{stem}_overlay.png"))
    if effect != "none":
        Image.fromarray(apply_effect(photo, labels, effect, background)).save(
            os.path.join(folder, f"{stem}_{effect}.png"))
    summary = {"photo": path, "output_stem": stem, "width": w, "height": h,
               "frame": "upright: EXIF orientation applied, as a photo viewer shows it",
               "exif_orientation": orientation, "num_persons": len(people),
               "persons": people,
               "result": "no person found" if not people else f"{len(people)} person(s)"}
    with open(os.path.join(folder, f"{stem}.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary
