"""Markdown table of an ablation from the runs' metrics.json files.

    python benchmarks/ablation_table.py runs/ablation_plain runs/ablation_paper \
        [--json results/ablation.json]

For every run: final and best validation person IoU (PFCN val, letterboxed at the
recipe's size, as logged by the trainer), the epoch of the best, wall time, and
the IoU each run had reached by the wall time of the fastest run.
"""

import argparse
import json
import os

import yaml


def load(run):
    with open(os.path.join(run, "metrics.json"), encoding="utf-8") as f:
        history = json.load(f)
    key = "val_mask_person_iou" if "val_mask_person_iou" in history[0] else "val_person_iou"
    with open(os.path.join(run, "config.yaml"), encoding="utf-8") as f:
        model = yaml.safe_load(f)["model"]
    return history, key, model


def main(runs, json_path=None):
    loaded = {run: load(run) for run in runs}
    budget = min(h[-1]["seconds"] for h, _, _ in loaded.values())
    rows = []
    for run, (history, key, model) in loaded.items():
        best = max(history, key=lambda e: e[key])
        in_budget = [e for e in history if e["seconds"] <= budget + 1e-6]
        rows.append({
            "run": os.path.basename(os.path.normpath(run)),
            "blocks": {k: bool(model[k]) for k in ("deep_supervision", "categorical_attention",
                                                   "boundary_enhancement")},
            "epochs": len(history), "final_val_iou": history[-1][key],
            "best_val_iou": best[key], "best_epoch": best["epoch"],
            "val_iou_at_budget": max(e[key] for e in in_budget) if in_budget else None,
            "budget_seconds": budget, "wall_minutes": history[-1]["seconds"] / 60})
    print("| run | blocks (deep sup. / cat. attention / boundary) | epochs | final val IoU | "
          f"best val IoU (epoch) | val IoU at {budget:.0f} s | wall time |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        blocks = " / ".join("on" if v else "off" for v in r["blocks"].values())
        print(f"| {r['run']} | {blocks} | {r['epochs']} | {r['final_val_iou']:.4f} "
              f"| {r['best_val_iou']:.4f} ({r['best_epoch']}) | {r['val_iou_at_budget']:.4f} | "
              f"{r['wall_minutes']:.1f} min |")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=["runs/ablation_plain", "runs/ablation_paper"])
    parser.add_argument("--json", help="also write the rows as JSON")
    args = parser.parse_args()
    main(args.runs, args.json)
