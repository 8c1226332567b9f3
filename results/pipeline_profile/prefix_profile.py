"""Where the whole-pipeline .tflite spends its time, by running prefixes of its op list.

TFLite runs every op of a graph's execution plan in order, so a copy of the model cut after
op k (outputs: that op's outputs) costs the first k ops. The difference between two cuts is
the cost of the ops between them. One thread, median of `--repeats` runs per cut.

    python results/pipeline_profile/prefix_profile.py saved_models/portrait_instance_mbv2_256/model_int8.tflite \
        --step 10 --photo 256x256 --out results/pipeline_profile/fast_int8_256.txt
"""

import argparse
import collections
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils


def _cut(data, k):
    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    graph = tree.subgraphs[0]
    graph.operators = graph.operators[:k]
    graph.outputs = [int(t) for t in graph.operators[-1].outputs] if k else list(graph.inputs)
    tree.signatureDefs = []
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def _time(data, photo, repeats):
    interpreter = Interpreter(model_content=data, num_threads=1)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, photo.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, photo)
    for _ in range(3):
        interpreter.invoke()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--photo", default="256x256")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--range", default=None, help="first,last op to cut between")
    parser.add_argument("--out")
    args = parser.parse_args()
    data = open(args.model, "rb").read()
    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    kinds = [names.get(max(c.builtinCode, c.deprecatedBuiltinCode)) for c in tree.operatorCodes]
    graph = tree.subgraphs[0]
    ops = graph.operators
    label = [(kinds[op.opcodeIndex], graph.tensors[op.outputs[0]].name.decode()[:60])
             for op in ops]
    h, w = (int(v) for v in args.photo.split("x"))
    photo = np.random.default_rng(0).integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    first, last = (int(v) for v in args.range.split(",")) if args.range else (0, len(ops))
    cuts = list(range(first + args.step, last, args.step)) + [last]
    lines = [f"{args.model}: {len(ops)} ops, {len(tree.subgraphs)} subgraph(s), photo {args.photo},"
             f" 1 thread, median of {args.repeats}"]
    previous, before = (_time(_cut(data, first), photo, args.repeats) if first else 0.0), first
    by_kind = collections.Counter()
    for k in cuts:
        ms = _time(_cut(data, k), photo, args.repeats)
        segment = label[before:k]
        kinds_here = collections.Counter(kind for kind, _ in segment)
        cost = ms - previous
        for kind, n in kinds_here.items():
            by_kind[kind] += cost * n / len(segment)
        lines.append(f"ops {before:4d}-{k - 1:4d} cumulative {ms:7.2f} ms  segment {cost:+6.2f} | "
                     f"{', '.join(f'{n} {kind}' for kind, n in kinds_here.most_common(4))} | "
                     f"last: {segment[-1][1]}")
        previous, before = ms, k
    lines.append("cost shared out by op type within each segment (rough):")
    lines += [f"  {kind:<22} {ms:6.2f} ms" for kind, ms in by_kind.most_common(15)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
