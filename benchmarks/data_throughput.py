"""Input-pipeline throughput: augmented 256x256 training samples per second.

    python benchmarks/data_throughput.py --data-dir ../shared/data

Decodes and packs the sets once (printed as load time), then times the
augmented stream after a warm-up, for the targets segmentation training uses
(mask) and for every target (mask, boundary, boxes, CenterNet heatmaps).
"""

import argparse
import time

from portrait_garden.data import build_dataset, load_store, resolve_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--datasets", nargs="+", default=["pfcn", "picsart", "ccp", "vikram"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()

    start = time.time()
    stores = [load_store(resolve_dataset(name, args.data_dir))[0] for name in args.datasets]
    n = sum(len(s) for s in stores)
    print(f"decoded and packed {n} images from {args.datasets} in {time.time() - start:.1f} s")
    for targets in [("mask",), ("mask", "boundary", "boxes", "centernet")]:
        it = iter(build_dataset(stores, (args.size, args.size), args.batch_size,
                                targets=targets))
        for _ in range(10):  # warm-up: tracing, AUTOTUNE ramp
            next(it)
        start = time.time()
        for _ in range(args.batches):
            next(it)
        rate = args.batches * args.batch_size / (time.time() - start)
        print(f"targets={'+'.join(targets):<34} {rate:7.1f} augmented {args.size}x{args.size} "
              "samples/s")


if __name__ == "__main__":
    main()
