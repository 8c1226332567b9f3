"""Latency of network variants before training them: `.tflite` of untrained networks
beside MediaPipe's selfie segmenter and shipped files, in one run on this CPU.

    python tools/latency_probe.py --variant 0.5:64 --variant 0.5:32 --variant 0.35:32 \
        --tflite saved_models/portrait_instance_mbv2_256/network_int8.tflite
    python tools/latency_probe.py --variant 1.0:64 --variant 0.5:64 \
        --precision float32 --precision float16 --precision int8

`--precision` (repeatable, default int8) converts each variant in each precision, which
shows what int8 buys on this CPU.

A variant is `width:decoder_filters` of a `PortraitSegmenter` with the detector (the
network `export` writes as `network_int8.tflite`: outputs + decoder features), quantized
after training-free calibration on noise. Weights do not change an int8 network's time,
so this says what a thinner head would cost before a run is spent on it. 1 thread,
median of `--repeats` runs after 5 warm-ups; quote ratios from one run only.
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def median_ms(data, repeats):
    from ai_edge_litert.interpreter import Interpreter

    from portrait_garden.evaluate.benchmark import time_runner

    interpreter = Interpreter(model_content=data, num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]

    def run(image):
        interpreter.set_tensor(detail["index"], image)
        interpreter.invoke()

    return time_runner(run, {"image": np.zeros(detail["shape"], detail["dtype"])}, repeats)[0]


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def variant_tflite(width, filters, size, precision="int8"):
    import tf_keras as keras

    import portrait_garden as pg
    from portrait_garden.export.tflite import convert_to_tflite
    from portrait_garden.models.instance_segmenter import serving_network
    from portrait_garden.models.stats import count_flops

    keras.utils.set_random_seed(0)
    model = pg.PortraitSegmenter(image_size=(size, size), width_multiplier=width,
                                 decoder_filters=filters, detector=True)
    rng = np.random.default_rng(0)
    calibration = [rng.uniform(0, 255, (1, size, size, 3)).astype("float32")
                   for _ in range(8)]
    data = convert_to_tflite(serving_network(model), precision,
                             representative_images=calibration if precision == "int8" else None)
    return data, count_flops(model) // 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", default=[],
                        help="width:decoder_filters, e.g. 0.5:32 (repeatable)")
    parser.add_argument("--tflite", nargs="*", default=[], help=".tflite files to time too")
    parser.add_argument("--precision", action="append", choices=("float32", "float16", "int8"),
                        help="precision of the variants (repeatable; default int8)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()

    from portrait_garden.evaluate.benchmark import PEER_NAME, cpu_name, fetch_peer

    rows = [(PEER_NAME, _read(fetch_peer()), None)]
    rows += [(path, _read(path), None) for path in args.tflite]
    for text in args.variant:
        try:
            width, filters = float(text.split(":")[0]), int(text.split(":")[1])
        except (IndexError, ValueError):
            parser.error(f"--variant {text!r}: expected width:decoder_filters, e.g. 0.5:32")
        for precision in args.precision or ["int8"]:
            data, macs = variant_tflite(width, filters, args.size, precision)
            rows.append((f"width {width}, decoder_filters {filters} (untrained, {precision})",
                         data, macs))
    print(f"CPU `{cpu_name()}`, 1 thread, median of {args.repeats} runs")
    peer = None
    for name, data, macs in rows:
        ms = median_ms(data, args.repeats)
        peer = peer or ms
        extra = f", {macs / 1e6:.0f} M MACs" if macs else ""
        print(f"{name}: {ms:.2f} ms ({ms / peer:.2f}x MediaPipe){extra}")


if __name__ == "__main__":
    main()
