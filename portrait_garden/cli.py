"""`portrait-garden` command line: a thin layer over the library."""

import argparse
import json
import os
import sys

DEFAULT_MODEL_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "saved_models",
    "portrait_instance_mbv2_256")
"""Where the shipped default model lives (override with `--model`)."""


def _info(args):
    from portrait_garden.configs import load_config
    from portrait_garden.models import build_segmenter, model_summary

    config = load_config(args.config, args.set or ())
    model = build_segmenter(config)
    summary = model_summary(model)
    m = config.model
    summary["config"] = args.config
    summary["image_size"] = list(m.image_size)
    summary["width_multiplier"] = m.width_multiplier
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"config            {args.config}")
    print(f"model             {model.name} (backbone {m.backbone}, width {m.width_multiplier}, "
          f"decoder {m.decoder_filters})")
    print(f"blocks            deep_supervision={m.deep_supervision} "
          f"categorical_attention={m.categorical_attention} "
          f"boundary_enhancement={m.boundary_enhancement}")
    print(f"input             {m.image_size[0]}x{m.image_size[1]}x3 float32 in [0, 255]")
    print(f"parameters        {summary['params']:,} ({summary['params'] / 1e6:.3f} M), "
          f"trainable {summary['trainable_params']:,}")
    print(f"FLOPs             {summary['flops']:,} ({summary['flops'] / 1e9:.3f} G, "
          "2 x multiply-adds of conv/dense layers)")
    print("outputs (logits)")
    for name, shape in summary["outputs"].items():
        print(f"  {name:<15} {shape}")
    return 0


def _demo(args):
    model_dir = args.model or DEFAULT_MODEL_DIR
    if not os.path.exists(model_dir):
        print(
            f"portrait-garden: no trained model is shipped yet (nothing at {model_dir}).\n"
            "The default instance model is trained in a later milestone (issue #7); until "
            "then there is nothing honest to segment with. Pass --model PATH to use a "
            "model you trained.", file=sys.stderr)
        return 1
    print(f"portrait-garden: {model_dir} exists but the end-to-end segment command is not "
          "implemented yet (issues #4 and #7).", file=sys.stderr)
    return 1


def build_parser():
    parser = argparse.ArgumentParser(
        prog="portrait-garden",
        description="Portrait instance segmentation for phones (Zhu et al., ICME 2019).")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="print parameters, FLOPs and output shapes of a recipe's "
                                       "model")
    info.add_argument("--config", required=True, help="recipe YAML, e.g. "
                                                      "recipes/portrait_seg_mbv2_256.yaml")
    info.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="override a config value, e.g. --set model.width_multiplier=0.5")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(func=_info)

    demo = sub.add_parser("demo", help="segment the sample photo with the shipped default model")
    demo.add_argument("--model", help="model folder (default: the shipped model)")
    demo.add_argument("--out", default="demo_output", help="output folder")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Entry point of the `portrait-garden` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    from portrait_garden.configs import ConfigError

    try:
        return args.func(args)
    except (ConfigError, FileNotFoundError, ValueError) as e:
        print(f"portrait-garden {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
