"""Side by side with a real peer: MediaPipe's selfie segmenter vs our exported models.

    python benchmarks/peer_mediapipe.py --export saved_models/portrait_instance_mbv2_256 \\
        --dataset pfcn --split val --data-dir ../shared/data

The peer is the selfie_segmentation.tflite inside the mediapipe==0.10.21 wheel (Apache-2.0),
fetched once with `pip download --no-deps` and cached under ~/.cache/portrait_garden (this
benchmark is the only place that downloads anything). Same photos, same machine, same run:
person IoU at the photo's resolution and median latency of one forward pass at 256x256 with
1 and 2 threads (ai-edge-litert).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PEER_PATH = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "portrait_garden",
                     "selfie_segmentation.tflite")


def fetch_peer(cache=CACHE):
    """Path of the cached MediaPipe selfie segmenter; downloads the wheel once."""
    if os.path.exists(cache):
        return cache
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                                 "mediapipe==0.10.21", "-d", tmp], capture_output=True,
                                text=True)
        wheels = glob.glob(os.path.join(tmp, "mediapipe-*.whl"))
        if result.returncode or not wheels:
            raise SystemExit("Could not fetch mediapipe==0.10.21 from PyPI to get the peer "
                             f"model ({result.stderr.strip()[-300:]}). Without network access, "
                             f"put selfie_segmentation.tflite at {cache} by hand.")
        with zipfile.ZipFile(wheels[0]) as wheel, open(cache, "wb") as f:
            f.write(wheel.read(PEER_PATH))
    return cache


def median_ms(fn, repeats=30):
    """Median milliseconds of `fn()` (timing loop of pipeline_latency.py)."""
    from pipeline_latency import time_runner

    return time_runner(lambda: fn(), {}, repeats)[0]


def person_probability_fn(label, path):
    """photo uint8 [H, W, 3] -> person probability [H, W] for one of the compared models."""
    from ai_edge_litert.interpreter import Interpreter
    from PIL import Image

    from portrait_garden.export.serving import letterbox

    def resize(prob, h, w):
        return np.asarray(Image.fromarray(prob.astype(np.float32)).resize((w, h),
                                                                          Image.BILINEAR))

    if "portrait-garden" not in label:  # MediaPipe: stretched to 256x256, float in [0, 1]
        it = Interpreter(model_path=path, num_threads=2)
        it.allocate_tensors()

        def peer(photo):
            x = np.asarray(Image.fromarray(photo).resize((256, 256)), np.float32) / 255.0
            it.set_tensor(it.get_input_details()[0]["index"], x[None])
            it.invoke()
            prob = it.get_tensor(it.get_output_details()[0]["index"])[0, ..., 0]
            return resize(prob, *photo.shape[:2])

        return peer
    run = Interpreter(model_path=path, num_threads=2).get_signature_runner("serving_default")
    if "network" in label:  # letterboxed 256x256, mask logits
        def network(photo):
            canvas, (oy, ox, nh, nw) = letterbox(photo[None], (256, 256))
            logits = run(image=canvas.numpy())["mask"][0, ..., 0]
            crop = logits[int(oy):int(oy + nh), int(ox):int(ox + nw)]
            return resize(1.0 / (1.0 + np.exp(-crop)), *photo.shape[:2])

        return network
    return lambda photo: run(image=photo[None])["person_probability"]


def main():
    from ai_edge_litert.interpreter import Interpreter

    from portrait_garden.data import IGNORE, read_examples, resolve_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", required=True)
    parser.add_argument("--dataset", default="pfcn")
    parser.add_argument("--split", default="val")
    parser.add_argument("--data-dir")
    parser.add_argument("--max-images", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()

    examples, _ = read_examples(resolve_dataset(args.dataset, args.data_dir), args.split)
    examples = examples[:args.max_images] if args.max_images else examples
    models = {"mediapipe selfie_segmentation": fetch_peer()}
    for name in ("network_float32", "network_int8", "model_float16", "model_int8"):
        path = os.path.join(args.export, f"{name}.tflite")
        if os.path.exists(path):
            models[f"portrait-garden {name}"] = path

    rows = []
    for label, path in models.items():
        predict = person_probability_fn(label, path)
        inter = union = 0
        for ex in examples:
            prob = predict(ex.image)
            valid = ex.labels != IGNORE
            truth = (ex.labels > 0) & valid
            pred = (prob > 0.5) & valid
            inter += int((pred & truth).sum())
            union += int((pred | truth).sum())
        latency = {}
        for threads in (1, 2):
            interp = Interpreter(model_path=path, num_threads=threads)
            if "portrait-garden" in label:
                run = interp.get_signature_runner("serving_default")
                feed = {"image": np.zeros((1, 256, 256, 3), np.float32 if "network" in label
                                          else np.uint8)}
                latency[threads] = median_ms(lambda r=run, f=feed: r(**f))
            else:
                interp.allocate_tensors()
                interp.set_tensor(interp.get_input_details()[0]["index"],
                                  np.zeros((1, 256, 256, 3), np.float32))
                latency[threads] = median_ms(interp.invoke)
        rows.append({"model": label, "person_iou": inter / max(union, 1),
                     "ms_1_thread": latency[1], "ms_2_threads": latency[2],
                     "bytes": os.path.getsize(path)})
    peer = rows[0]
    print(f"{args.dataset}/{args.split}, {len(examples)} images, 256x256 inputs\n")
    print("| model | person IoU | median ms (1 thread) | median ms (2 threads) | size | "
          "latency vs MediaPipe (1 thread) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['person_iou']:.4f} | {r['ms_1_thread']:.2f} | "
              f"{r['ms_2_threads']:.2f} | {r['bytes'] / 1e6:.2f} MB | "
              f"{r['ms_1_thread'] / peer['ms_1_thread']:.2f}x |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
