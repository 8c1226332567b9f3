"""`portrait-garden benchmark`: size, latency and accuracy of .tflite files, side by side
with MediaPipe's selfie segmenter, on the same photos in the same run.

Every model is timed with ai-edge-litert on a 256x256 input with 1 and 2 threads
(median and 90th percentile over repeated runs) and scored (person IoU at each
photo's resolution) on the same evaluation photos. The peer is the
`selfie_segmentation.tflite` inside the `mediapipe==0.10.21` wheel (Apache-2.0),
fetched once with `pip download --no-deps` into a cache folder: the only download
in the package, and only when the benchmark asks for the peer.
"""

import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

PEER_NAME = "mediapipe selfie_segmentation"
PEER_WHEEL = "mediapipe==0.10.21"
PEER_PATH = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
PEER_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "portrait_garden",
                          "selfie_segmentation.tflite")
INPUT_SIZE = 256


class PeerUnavailable(RuntimeError):
    """MediaPipe's model could not be fetched (no network, no cached copy)."""


def fetch_peer(cache=PEER_CACHE):
    """Path of MediaPipe's selfie segmenter .tflite; downloads the wheel once.

    Raises:
      PeerUnavailable: pip could not fetch the wheel; the message says where
        to put the file by hand.
    """
    if os.path.exists(cache):
        return cache
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                                 PEER_WHEEL, "-d", tmp], capture_output=True, text=True)
        wheels = glob.glob(os.path.join(tmp, "mediapipe-*.whl"))
        if result.returncode or not wheels:
            raise PeerUnavailable(
                f"Could not fetch {PEER_WHEEL} from PyPI to get MediaPipe's selfie segmenter "
                f"({result.stderr.strip()[-300:] or 'no wheel'}). Without network access, "
                f"copy {PEER_PATH} out of that wheel to {cache}, or pass --no-peer.")
        with zipfile.ZipFile(wheels[0]) as wheel:
            data = wheel.read(PEER_PATH)
        with open(f"{cache}.tmp", "wb") as f:
            f.write(data)
        os.replace(f"{cache}.tmp", cache)
    return cache


def cpu_name():
    """The CPU's model name (what `lscpu` prints as "Model name"), for latency reports:
    ratios to MediaPipe move between machines."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def time_runner(run, inputs, repeats, warmup=5):
    """(median, p90) milliseconds of `run(**inputs)` over `repeats` calls."""
    for _ in range(warmup):
        run(**inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(**inputs)
        times.append(1000.0 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 90))


def gzip_size(path):
    """Bytes of the file gzip-compressed at level 9 (how sparsity shows in app size)."""
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=9))


def _resize(prob, h, w):
    from PIL import Image

    return np.asarray(Image.fromarray(prob.astype(np.float32)).resize((w, h), Image.BILINEAR))


class TFLiteModel:
    """One .tflite to compare: a pipeline export (`model_*.tflite`, uint8 photo in),
    a network alone (`network_*.tflite`, letterboxed float32 canvas in, logits
    out) or the MediaPipe peer (stretched float32 [0, 1] in, probability out).

    Args:
      path: the .tflite file.
      name: label in the tables. Defaults to the file name.
      kind: `"pipeline"`, `"network"` or `"peer"`; default guessed from the
        file's signature.
    """

    def __init__(self, path, name=None, kind=None):
        from ai_edge_litert.interpreter import Interpreter

        if not os.path.isfile(path):
            raise FileNotFoundError(f"No .tflite at {path}.")
        self.path = path
        self.name = name or os.path.basename(path)
        signatures = Interpreter(model_path=path).get_signature_list()
        outputs = signatures.get("serving_default", {}).get("outputs", [])
        if kind is None:
            kind = ("pipeline" if "person_probability" in outputs else
                    "network" if "mask" in outputs else None)
        if kind not in ("pipeline", "network", "peer"):
            raise ValueError(f"{path}: not a portrait-garden .tflite (outputs {outputs}); "
                             "pass an export folder, model_*.tflite or network_*.tflite.")
        self.kind = kind
        # Network and peer take a fixed-size input; the pipeline any photo (timed at 256).
        self.size = (INPUT_SIZE, INPUT_SIZE)
        if kind != "pipeline":
            interpreter = Interpreter(model_path=path)
            shape = interpreter.get_input_details()[0]["shape"]
            self.size = (int(shape[1]), int(shape[2]))

    def runner(self, threads, photo_size=None):
        """(run, inputs) for timing one forward pass: 256x256, or a pipeline's photo of
        `photo_size` `(h, w)`."""
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=self.path, num_threads=threads)
        if self.kind == "peer":
            interpreter.allocate_tensors()
            index = interpreter.get_input_details()[0]["index"]
            image = np.zeros((1, *self.size, 3), np.float32)

            def run(image):
                interpreter.set_tensor(index, image)
                interpreter.invoke()

            return run, {"image": image}
        run = interpreter.get_signature_runner("serving_default")
        dtype = np.uint8 if self.kind == "pipeline" else np.float32
        size = photo_size if photo_size and self.kind == "pipeline" else self.size
        return run, {"image": np.zeros((1, *size, 3), dtype)}

    def probability_fn(self, threads=2):
        """photo uint8 `[H, W, 3]` -> person probability `[H, W]`."""
        from ai_edge_litert.interpreter import Interpreter

        from portrait_garden.ops.resample import letterbox

        interpreter = Interpreter(model_path=self.path, num_threads=threads)
        if self.kind == "peer":
            from PIL import Image

            interpreter.allocate_tensors()
            inp = interpreter.get_input_details()[0]["index"]
            out = interpreter.get_output_details()[0]["index"]

            def peer(photo):
                x = np.asarray(Image.fromarray(photo).resize(self.size[::-1]),
                               np.float32) / 255.0
                interpreter.set_tensor(inp, x[None])
                interpreter.invoke()
                return _resize(interpreter.get_tensor(out)[0, ..., 0], *photo.shape[:2])

            return peer
        run = interpreter.get_signature_runner("serving_default")
        if self.kind == "network":
            def network(photo):
                canvas, (oy, ox, nh, nw) = letterbox(photo[None], self.size)
                logits = run(image=canvas.numpy())["mask"][0, ..., 0]
                crop = logits[int(oy):int(oy + nh), int(ox):int(ox + nw)]
                return _resize(1.0 / (1.0 + np.exp(-crop)), *photo.shape[:2])

            return network
        return lambda photo: run(image=photo[None])["person_probability"]


def models_from(paths):
    """`TFLiteModel`s of export folders (their .tflite files) and .tflite paths."""
    models = []
    for path in paths:
        if os.path.isdir(path):
            files = sorted(glob.glob(os.path.join(path, "*.tflite")))
            if not files:
                raise FileNotFoundError(f"{path} holds no .tflite files; run portrait-garden "
                                        "export first.")
            prefix = os.path.basename(os.path.normpath(path))
            models += [TFLiteModel(f, f"{prefix}/{os.path.basename(f)}") for f in files]
        else:
            models.append(TFLiteModel(path))
    return models


def person_iou_on(model, examples):
    """Dataset-level person IoU of a model's probability > 0.5 (ignore pixels excluded)."""
    from portrait_garden.data.readers import IGNORE
    from portrait_garden.evaluate.metrics import confusion_2class, person_iou_from_confusion

    predict = model.probability_fn()
    confusion = np.zeros((2, 2), np.int64)
    for ex in examples:
        valid = ex.labels != IGNORE
        confusion += confusion_2class(predict(ex.image) > 0.5, (ex.labels > 0) & valid, valid)
    return person_iou_from_confusion(confusion)


def run_benchmark(models, examples, repeats=50, threads=(1, 2), progress=True):
    """Size, latency and person IoU of every model; returns a list of row dicts.

    Rows: `name`, `kind`, `file`, `bytes`, `gzip_bytes`, `person_iou`, and per
    thread count `t` `median_ms_{t}t`, `p90_ms_{t}t`; plus `vs_peer_{t}t`
    (median latency / the peer's) when a `"peer"` model is among them.
    """
    iterator = models
    if progress:
        from tqdm import tqdm

        iterator = tqdm(models, desc="benchmark", unit="model")
    rows = []
    for model in iterator:
        row = {"name": model.name, "kind": model.kind, "file": model.path,
               "input": "x".join(map(str, model.size)),
               "bytes": os.path.getsize(model.path), "gzip_bytes": gzip_size(model.path),
               "person_iou": person_iou_on(model, examples) if examples else None}
        for t in threads:
            run, inputs = model.runner(t)
            median, p90 = time_runner(run, inputs, repeats)
            row[f"median_ms_{t}t"] = round(median, 3)
            row[f"p90_ms_{t}t"] = round(p90, 3)
        rows.append(row)
    peer = next((r for r in rows if r["kind"] == "peer"), None)
    if peer:
        for row in rows:
            for t in threads:
                row[f"vs_peer_{t}t"] = round(row[f"median_ms_{t}t"] / peer[f"median_ms_{t}t"], 3)
    return rows


def parse_photo_size(text):
    """`"HxW"` -> `(H, W)`; a clear error otherwise."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"Photo size {text!r}: expected HEIGHTxWIDTH, e.g. 1080x1920.") from None
    if h < 1 or w < 1:
        raise ValueError(f"Photo size {text!r} must be positive.")
    return h, w


def photo_size_latency(models, photo_sizes, repeats=50, threads=1):
    """Median latency of each whole-pipeline model on photos of each `(h, w)`: the
    outputs are at photo resolution, so the cost grows with the photo.

    Returns a list of dicts: `name`, `photo_size` ("HxW"), `threads`, `median_ms`,
    `p90_ms`.
    """
    rows = []
    for model in models:
        if model.kind != "pipeline":
            continue
        for size in photo_sizes:
            median, p90 = time_runner(*model.runner(threads, size), repeats)
            rows.append({"name": model.name, "photo_size": f"{size[0]}x{size[1]}",
                         "threads": threads, "median_ms": round(median, 3),
                         "p90_ms": round(p90, 3)})
    return rows


def markdown_table(rows, threads=(1, 2)):
    """The rows as a markdown table (the `benchmark` command prints it)."""
    has_peer = any(r["kind"] == "peer" for r in rows)
    head = ["model", "input", "person IoU", "bytes", "gzip bytes"]
    for t in threads:
        head += [f"median ms ({t}t)", f"p90 ms ({t}t)"]
    if has_peer:
        head += [f"x MediaPipe ({t}t)" for t in threads]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    inputs = {"pipeline": "photo", "network": "letterboxed", "peer": "stretched"}
    for r in rows:
        cells = [r["name"], f"{inputs[r['kind']]} {r['input']}",
                 "-" if r["person_iou"] is None else f"{r['person_iou']:.4f}",
                 f"{r['bytes']:,}", f"{r['gzip_bytes']:,}"]
        for t in threads:
            cells += [f"{r[f'median_ms_{t}t']:.2f}", f"{r[f'p90_ms_{t}t']:.2f}"]
        if has_peer:
            cells += [f"{r[f'vs_peer_{t}t']:.2f}x" for t in threads]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, path, threads=1):
    """Accuracy (person IoU) vs median latency, marker area ~ gzip'd size; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        if r["person_iou"] is None:
            continue
        x, y = r[f"median_ms_{threads}t"], r["person_iou"]
        colour = "tab:orange" if r["kind"] == "peer" else "tab:blue"
        ax.scatter(x, y, s=max(20.0, r["gzip_bytes"] / 2e4), color=colour, alpha=0.7)
        ax.annotate(r["name"].split("/")[-1], (x, y), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel(f"median latency, ms ({threads} thread{'s' if threads > 1 else ''}, "
                  "ai-edge-litert)")
    ax.set_ylabel("person IoU")
    ax.set_title("accuracy vs latency (marker area ~ gzip'd size)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(rows, out_dir, meta=None):
    """Writes `benchmark.md`, `benchmark.json` and `benchmark.png` into `out_dir`."""
    os.makedirs(out_dir, exist_ok=True)
    table = markdown_table(rows)
    with open(os.path.join(out_dir, "benchmark.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    with open(os.path.join(out_dir, "benchmark.json"), "w", encoding="utf-8") as f:
        json.dump({**(meta or {}), "rows": rows}, f, indent=1)
    plot(rows, os.path.join(out_dir, "benchmark.png"))
    return {k: os.path.join(out_dir, f"benchmark.{k}") for k in ("md", "json", "png")}


def pipeline_overhead(rows, threads=(1, 2)):
    """What pre/post-processing + grouping add over the network alone, per export
    folder and precision: list of `(folder, precision, threads, network_ms, pipeline_ms)`."""
    by_name = {r["name"]: r for r in rows}
    found = []
    for name, row in by_name.items():
        folder, _, file = name.rpartition("/")
        for precision in ("float32", "int8"):
            if file != f"model_{precision}.tflite":
                continue
            network = by_name.get(f"{folder}/network_{precision}.tflite" if folder
                                  else f"network_{precision}.tflite")
            if network:
                for t in threads:
                    found.append((folder, precision, t, network[f"median_ms_{t}t"],
                                  row[f"median_ms_{t}t"]))
    return found
