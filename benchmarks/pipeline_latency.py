"""Latency of the exported pipeline vs the network alone, with ai-edge-litert.

    python benchmarks/pipeline_latency.py --export saved_models/portrait_instance_mbv2_256

Runs each .tflite of an export folder on a 256x256 photo (skimage's astronaut)
with 1 and 2 threads and prints median / p90 milliseconds, and what the
pre/post-processing + grouping adds over the network alone (same precision).
"""

import argparse
import json
import os
import time

import numpy as np


def time_runner(run, inputs, repeats, warmup=5):
    for _ in range(warmup):
        run(**inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(**inputs)
        times.append(1000.0 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 90))


def main():
    from ai_edge_litert.interpreter import Interpreter
    from skimage import data
    from skimage.transform import resize

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", required=True, help="folder written by portrait-garden "
                                                         "export")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--size", type=int, default=256, help="photo side in pixels")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    photo = (resize(data.astronaut(), (args.size, args.size)) * 255).astype(np.uint8)
    net_in = photo[None].astype(np.float32)
    rows = []
    files = sorted(f for f in os.listdir(args.export) if f.endswith(".tflite"))
    for threads in (1, 2):
        for name in files:
            path = os.path.join(args.export, name)
            run = Interpreter(model_path=path, num_threads=threads).get_signature_runner(
                "serving_default")
            inputs = {"image": net_in if name.startswith("network") else photo[None]}
            median, p90 = time_runner(run, inputs, args.repeats)
            rows.append({"file": name, "threads": threads, "median_ms": round(median, 2),
                         "p90_ms": round(p90, 2), "bytes": os.path.getsize(path)})
    print("| file | threads | median ms | p90 ms | bytes |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['file']} | {r['threads']} | {r['median_ms']} | {r['p90_ms']} | "
              f"{r['bytes']:,} |")
    by = {(r["file"], r["threads"]): r for r in rows}
    print()
    for threads in (1, 2):
        for precision, pipeline in (("float32", "model_float32.tflite"),
                                    ("int8", "model_int8.tflite")):
            net = by.get((f"network_{precision}.tflite", threads))
            full = by.get((pipeline, threads))
            if net and full:
                print(f"{precision}, {threads} thread(s): network {net['median_ms']} ms, full "
                      f"pipeline {full['median_ms']} ms, pre/post-processing + grouping adds "
                      f"{full['median_ms'] - net['median_ms']:.2f} ms (median)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
