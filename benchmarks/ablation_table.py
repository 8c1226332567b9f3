"""Markdown table of an ablation from the runs' metrics.json files.

    python benchmarks/ablation_table.py runs/ablation_plain runs/ablation_paper

For every run: final and best validation person IoU (PFCN val, letterboxed at the
recipe's size, as logged by the trainer), the epoch of the best, wall time, and
the IoU each run had reached by the wall time of the fastest run.
"""

import json
import os
import sys

import yaml


def load(run):
    with open(os.path.join(run, "metrics.json"), encoding="utf-8") as f:
        history = json.load(f)
    key = "val_mask_person_iou" if "val_mask_person_iou" in history[0] else "val_person_iou"
    with open(os.path.join(run, "config.yaml"), encoding="utf-8") as f:
        model = yaml.safe_load(f)["model"]
    return history, key, model


def main(runs):
    loaded = {run: load(run) for run in runs}
    budget = min(h[-1]["seconds"] for h, _, _ in loaded.values())
    print("| run | blocks (deep sup. / cat. attention / boundary) | epochs | final val IoU | "
          f"best val IoU (epoch) | val IoU at {budget:.0f} s | wall time |")
    print("|---|---|---|---|---|---|---|")
    for run, (history, key, model) in loaded.items():
        best = max(history, key=lambda e: e[key])
        in_budget = [e for e in history if e["seconds"] <= budget + 1e-6]
        at_budget = max(e[key] for e in in_budget) if in_budget else float("nan")
        blocks = " / ".join("on" if model[k] else "off" for k in (
            "deep_supervision", "categorical_attention", "boundary_enhancement"))
        print(f"| {os.path.basename(run)} | {blocks} | {len(history)} | {history[-1][key]:.4f} "
              f"| {best[key]:.4f} ({best['epoch']}) | {at_budget:.4f} | "
              f"{history[-1]['seconds'] / 60:.1f} min |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["runs/ablation_plain", "runs/ablation_paper"])
