"""Where a `.tflite` file's work is: ops, multiply-accumulates by op type, the heaviest
ops, and how the XNNPACK delegate partitions the graph.

    python tools/tflite_ops.py saved_models/portrait_instance_mbv2_100_256/network_int8.tflite

A structural profile, valid on a busy machine: MACs are counted from the tensor shapes
(conv: output size x kernel area x input channels; depthwise: output size x kernel area;
resize: 4 per output value; other ops: 1 per output value). Pair it with
`portrait-garden benchmark` for time. Ops that stay outside the delegate, and every
QUANTIZE / DEQUANTIZE / float op inside an int8 graph, are listed, because they break the
delegate into partitions and move tensors between formats.
"""

import argparse
import collections

import numpy as np


def op_table(path):
    """`(ops, delegates)`: one dict per op of the original graph (`op`, `dtype`, `shape`,
    `macs`, `tensor`), and the number of delegate partitions after XNNPACK."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops, delegates = [], 0
    for op in interpreter._get_ops_details():        # the only per-op view LiteRT exposes
        if op["op_name"] == "DELEGATE":
            delegates += 1
            continue
        out = tensors[op["outputs"][0]]
        size = int(np.prod(out["shape"]))
        inputs = [i for i in op["inputs"] if i >= 0]
        if op["op_name"] == "CONV_2D":
            kernel = tensors[inputs[1]]["shape"]
            macs = size * int(np.prod(kernel[1:]))
        elif op["op_name"] == "DEPTHWISE_CONV_2D":
            kernel = tensors[inputs[1]]["shape"]
            macs = size * int(kernel[1] * kernel[2])
        elif op["op_name"].startswith("RESIZE_"):
            macs = 4 * size
        else:
            macs = size
        ops.append({"op": op["op_name"], "dtype": np.dtype(out["dtype"]).name,
                    "shape": [int(v) for v in out["shape"]], "macs": macs,
                    "tensor": out["name"]})
    return ops, delegates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help=".tflite files")
    parser.add_argument("--top", type=int, default=10, help="heaviest ops to list")
    args = parser.parse_args()
    for path in args.files:
        ops, delegates = op_table(path)
        total = sum(o["macs"] for o in ops)
        counts = collections.Counter(o["op"] for o in ops)
        print(f"{path}: {len(ops)} ops, {total / 1e6:.1f} M MACs, {delegates} XNNPACK "
              f"partition(s)\n  ops: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
        by_type = collections.Counter()
        for o in ops:
            by_type[(o["op"], o["dtype"])] += o["macs"]
        print("  MACs by op type:")
        for (op, dtype), macs in by_type.most_common(6):
            print(f"    {op:20s} {dtype:8s} {macs / 1e6:8.1f} M  {100 * macs / total:5.1f}%")
        print(f"  heaviest {args.top} ops:")
        for o in sorted(ops, key=lambda o: -o["macs"])[:args.top]:
            print(f"    {o['op']:18s} {str(o['shape']):20s} {o['macs'] / 1e6:6.1f} M  "
                  f"{o['tensor'][:60]}")
        odd = [o for o in ops if o["op"] in ("QUANTIZE", "DEQUANTIZE", "ADD_N")
               or (o["dtype"] == "float32" and o["op"] != "DEQUANTIZE")]
        if odd:
            print("  format changes and float ops:")
            for o in odd:
                print(f"    {o['op']:18s} {o['dtype']:8s} {str(o['shape']):20s} "
                      f"{o['tensor'][:60]}")


if __name__ == "__main__":
    main()
