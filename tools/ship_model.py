"""Assembles the shipped model folder from two `portrait-garden export` folders.

    python tools/ship_model.py --float exports/instance_float \
        --qat exports/instance_qat --out saved_models/portrait_instance_mbv2_256

From the float export: `saved_model/` and `model_float16.tflite`; from the QAT export:
`model_int8.tflite` and `network_int8.tflite`. Without `--qat`, the int8 files are the
float export's own (post-training full-integer quantization, calibrated on photos), and
`export.json` says so. `export.json` says which run each file
comes from. `model.keras`, `config.yaml` and `MODEL_CARD.md` in `--out` are left as
they are (the card's figures come from `tools/readme_results.py`); `model.keras3.keras`
(the Keras 3 twin of `model.keras`) is rewritten from `model.keras`.

    python tools/ship_model.py --keras3-only --out saved_models/portrait_instance_mbv2_256

only rewrites `model.keras3.keras`.
"""

import argparse
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FROM_FLOAT = ("saved_model", "model_float16.tflite")
FROM_QAT = ("model_int8.tflite", "network_int8.tflite")


def _info(folder, needed):
    path = os.path.join(folder, "export.json")
    if not os.path.isfile(path):
        sys.exit(f"{folder} has no export.json: run `portrait-garden export` into it first.")
    with open(path, encoding="utf-8") as f:
        info = json.load(f)
    missing = [n for n in needed if not os.path.exists(os.path.join(folder, n))]
    if missing:
        sys.exit(f"{folder} lacks {missing}: export it with the quantizations they need.")
    return info


def _relative(path):
    return os.path.relpath(path, ROOT) if os.path.isabs(path) else path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--float", dest="float_dir")
    parser.add_argument("--qat", dest="qat_dir",
                        help="QAT export folder (default: post-training int8 of --float)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--keras3-only", action="store_true",
                        help="only rewrite model.keras3.keras from model.keras")
    args = parser.parse_args()
    if not args.keras3_only:
        if not args.float_dir:
            parser.error("--float is required (or pass --keras3-only)")
        _copy_exports(args)
    _write_keras3(args.out)


def _write_keras3(out):
    keras2 = os.path.join(out, "model.keras")
    if not os.path.isfile(keras2):
        print(f"{out} has no model.keras: no Keras 3 twin written.")
        return
    from portrait_garden.keras3 import write_keras3_twin

    print(f"{write_keras3_twin(keras2)} written (Keras 3 twin of {keras2}).")


def _copy_exports(args):
    float_info = _info(args.float_dir, FROM_FLOAT)
    qat_dir = args.qat_dir or args.float_dir
    qat_info = _info(qat_dir, FROM_QAT)
    if float_info["serving_config"] != qat_info["serving_config"]:
        sys.exit("The two exports were made with different serving configs.")
    os.makedirs(args.out, exist_ok=True)
    for folder, names in ((args.float_dir, FROM_FLOAT), (qat_dir, FROM_QAT)):
        for name in names:
            src, dst = os.path.join(folder, name), os.path.join(args.out, name)
            tmp = dst + ".tmp"
            if os.path.isdir(src):
                shutil.rmtree(tmp, ignore_errors=True)
                shutil.copytree(src, tmp)
                shutil.rmtree(dst, ignore_errors=True)
            else:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    tflite = {"float16": float_info["tflite"]["float16"], "int8": qat_info["tflite"]["int8"],
              "network_int8": qat_info["tflite"]["network_int8"]}
    info = {k: v for k, v in float_info.items() if k not in ("tflite", "source_model")}
    info["tflite"] = tflite
    info["source_model"] = {
        "saved_model, float16": _relative(float_info["source_model"]) + " (float)",
        "int8, network_int8": _relative(qat_info["source_model"])
        + (" (QAT)" if args.qat_dir else " (post-training int8, no QAT)"),
    }
    with open(os.path.join(args.out, "export.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"{args.out}: {', '.join(FROM_FLOAT + FROM_QAT)} and export.json written.")


if __name__ == "__main__":
    main()
