"""Regenerates the README's "Results" section and the shipped model card's figures from
the JSON the commands below write.

    python tools/readme_results.py            # render from results/*.json
    python tools/readme_results.py --run      # first run every command (needs the
                                                   # runs/ and exports/ named in them)
    python tools/readme_results.py --run --only pfg_sports   # just those commands

No figure in that section is typed by hand: each table names the command whose JSON
it renders, and `--run` re-creates those JSON files.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = "saved_models/portrait_instance_mbv2_256"
"""The fast preset: since session 26 the width-0.5 student distilled from the accurate one."""
OLD_FAST = "exports/fast_scratch"
"""The fast preset before distillation (width 0.5 from scratch): restore it with
`mkdir -p exports/fast_scratch && git archive 0501d65 saved_models/portrait_instance_mbv2_256
| tar -x -C exports/fast_scratch --strip-components 2`. Its sections are history."""
OLD_NAMES = ("portrait_instance_mbv2_256", "fast_scratch")
"""Row-name prefixes of the old fast preset in benchmark JSON: measured in its shipped
folder before distillation, `fast_scratch` when re-run from `OLD_FAST`."""
DIST = "results/distill"
DIST_RUN = "runs/portrait_instance_mbv2_050_256_distill"
ROUND1_FAST = "exports/fast_distill1"
"""The first distilled fast preset (teacher: the default before its 4th stage), shipped
until the second distillation replaced it: restore it with `mkdir -p exports/fast_distill1
&& git archive 81405ca saved_models/portrait_instance_mbv2_256 | tar -x -C
exports/fast_distill1 --strip-components 2`."""
ROUND2_FAST = "exports/fast_distill2"
"""The second distilled fast preset (teacher: the 5-stage default), shipped until the third
distillation replaced it: restore it with `mkdir -p exports/fast_distill2 && git archive
729684c saved_models/portrait_instance_mbv2_256 | tar -x -C exports/fast_distill2
--strip-components 2`."""
PRETRAINED = "saved_models/portrait_instance_mbv2_100_256"
"""The default preset: the ImageNet-pretrained width-1.0 instance model."""
PRE = "results/pretrained"
DATA = "--data-dir ../shared/data"
COCO = "results/coco_standard"
SERVING = "results/serving"
FLOOR_EXPORT = "exports/default_floor"
"""The default preset exported with the COCO-standard score floor (0.05) as its threshold,
so that the float16 and int8 files are compared over the whole precision-recall curve."""
HELDOUT = "results/coco128_heldout"
HELDOUT_RUN = "runs/heldout_joint"
"""The coco128 held-out proxy: the default's recipe on a short schedule, trained without
coco128's val part (`recipes/..._heldout_neck.yaml`, then `..._heldout_joint.yaml`)."""
GUIDED = "results/guided"
"""The guided-filter upsampling of the person mask (`serving.refine_radius`), chosen on
training photos with `results/guided/probe_cells.py`."""
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _evaluate(model, dataset, split, out, extra=""):
    split_arg = f" --split {split}" if split else ""
    return (out, f"portrait-garden evaluate --model {model} --dataset {dataset}{split_arg} "
                 f"{DATA}{extra} --out {out}")


JOBS = [
    ("results/ablation.json", "python benchmarks/ablation_table.py runs/ablation_plain "
                              "runs/ablation_paper --json results/ablation.json"),
    _evaluate("runs/ablation_plain/last.keras", "pfcn", "val", "results/eval_ablation_plain.json"),
    _evaluate("runs/ablation_paper/best.keras", "pfcn", "val", "results/eval_ablation_paper.json"),
    *[_evaluate(f"{OLD_FAST}/model_{p}.tflite", d, s, f"results/eval_{p}_{d}.json")
      for p in ("float16", "int8") for d, s in (("pfcn", "val"), ("vikram", None),
                                                ("pfg_sports", None))],
    *[_evaluate(f"{OLD_FAST}/model.keras", "pfg_sports", None, f"results/eval_{g}_pfg_sports.json",
                f" --grouping {g}") for g in ("affinity", "box")],
    _evaluate("exports/instance_float/model_float32.tflite", "pfg_sports", None,
              "results/eval_float32_pfg_sports.json"),
    *[_evaluate(f"{PRETRAINED}/model_{p}.tflite", d, s, f"{PRE}/eval_{p}_{d}.json")
      for p in ("float16", "int8") for d, s in (("pfcn", "val"), ("vikram", "val"))],
    _evaluate(f"{PRETRAINED}/model_float16.tflite", "pfg_sports", None,
              f"{PRE}/eval_float16_pfg_sports.json"),
    (f"{PRE}/ablation.json", "python benchmarks/ablation_table.py runs/ablation_plain_imagenet "
                             f"runs/ablation_paper_imagenet --json {PRE}/ablation.json"),
    *[_evaluate(f"runs/ablation_{r}_imagenet/last.keras", d, "val",
                f"{PRE}/eval_ablation_{r}_{d}.json")
      for r in ("paper", "plain") for d in ("pfcn", "vikram")],
    *[(f"{PRE}/benchmark_{d}/benchmark.json",
       f"portrait-garden benchmark --model {PRETRAINED} {SHIPPED} --dataset {d} --split val "
       f"{DATA} --repeats 100 --out {PRE}/benchmark_{d}") for d in ("pfcn", "vikram")],
    ("exports/fast_photo_res/export.json",
     f"portrait-garden export --model {OLD_FAST}/model.keras --out exports/fast_photo_res "
     f"--quantizations float16 int8 {DATA}"),
    ("results/photo_sizes/benchmark.json",
     f"portrait-garden benchmark --model {OLD_FAST} exports/fast_photo_res --no-peer "
     "--repeats 30 --photo-sizes 480x640 720x960 1080x1920 --out results/photo_sizes"),
    *[_evaluate(f"{m}/{f}", "pfg_sports", None, f"{COCO}/{n}_keras_pfg_sports.json")
      for m, f, n in ((PRETRAINED, "model.keras", "default"),
                      ("runs/portrait_instance_mbv2_100_256_imagenet_neck", "last.keras",
                       "neck"))],
    _evaluate(f"{PRETRAINED}/model.keras", "pfg_sports", None,
              f"{COCO}/default_keras_box_pfg_sports.json", " --grouping box"),
    *[_evaluate(f"{m}/{f}", "coco128", split, f"{HELDOUT}/{n}_keras_coco128_{split}.json")
      for m, f, n in ((PRETRAINED, "model.keras", "default"), (HELDOUT_RUN, "last.keras", "proxy"))
      for split in ("val", "train")],
    _evaluate(f"{HELDOUT_RUN}/last.keras", "pfg_sports", None,
              f"{HELDOUT}/proxy_keras_pfg_sports.json"),
    (f"{SERVING}/default_dev_sweep.json",
     f"portrait-garden choose-threshold --model {PRETRAINED}/model.keras --dataset pfg_sports "
     f"--split dev {DATA} --out {SERVING}/default_dev_sweep.json"),
    *[_evaluate(f"{PRETRAINED}/model_{p}.tflite", "pfg_sports", "test",
                f"{SERVING}/default_{p}_pfg_sports_test.json") for p in ("float16", "int8")],
    (f"{FLOOR_EXPORT}/export.json",
     f"portrait-garden export --model {PRETRAINED}/model.keras --out {FLOOR_EXPORT} "
     f"--quantizations float16 int8 --score-threshold 0.05 --calibration groups {DATA}"),
    *[_evaluate(f"{FLOOR_EXPORT}/model_{p}.tflite", "pfg_sports", "test",
                f"{SERVING}/default_{p}_floor_pfg_sports_test.json") for p in ("float16", "int8")],
    (f"{SERVING}/benchmark_slots/benchmark.json",
     f"portrait-garden benchmark --model exports/default_8slots {PRETRAINED} --dataset "
     f"pfg_sports --split test {DATA} --repeats 100 --out {SERVING}/benchmark_slots"),
    *[_evaluate(f"{run}/best.keras", d, "val", f"{DIST}/eval_{name}_keras_{d}.json")
      for run, name in ((DIST_RUN, "distill"), (f"{DIST_RUN}_control", "control"))
      for d in ("pfcn", "vikram")],
    *[_evaluate(f"{SHIPPED}/model_{p}.tflite", d, "val", f"{DIST}/eval_{p}_{d}.json")
      for p in ("float16", "int8") for d in ("pfcn", "vikram")],
    _evaluate(f"{SHIPPED}/model_float16.tflite", "pfg_sports", None,
              f"{DIST}/eval_float16_pfg_sports.json"),
    *[_evaluate(f"{OLD_FAST}/model_float16.tflite", d, "val", f"{DIST}/eval_replaced_{d}.json")
      for d in ("pfcn", "vikram")],
    *[_evaluate(f"{DIST_RUN}2/best.keras", d, "val", f"{DIST}/eval_distill2_keras_{d}.json")
      for d in ("pfcn", "vikram")],
    *[_evaluate(f"{ROUND1_FAST}/model_{p}.tflite", d, "val", f"{DIST}/eval_round1_{p}_{d}.json")
      for p in ("float16", "int8") for d in ("pfcn", "vikram")],
    _evaluate(f"{SHIPPED}/model_int8.tflite", "pfg_sports", None,
              f"{DIST}/eval_int8_pfg_sports.json"),
    *[_evaluate(f"{ROUND1_FAST}/model_{p}.tflite", "pfg_sports", None,
                f"{DIST}/eval_round1_{p}_pfg_sports.json") for p in ("float16", "int8")],
    *[_evaluate(f"{ROUND2_FAST}/model_{p}.tflite", d, s, f"{DIST}/eval_round2_{p}_{d}.json")
      for p in ("float16", "int8") for d, s in (("pfcn", "val"), ("vikram", "val"),
                                                ("pfg_sports", None))],
    *[_evaluate(f"{SHIPPED}/model.keras", d, "val", f"{DIST}/eval_distill3_keras_{d}.json")
      for d in ("pfcn", "vikram")],
    *[(f"{GUIDED}/probe_cells2{suffix}.json",
       f"env PROBE_SCALE=2 python {GUIDED}/probe_cells.py {model}/model.keras {radii} "
       f"probe_cells2{suffix}.json")
      for model, radii, suffix in ((PRETRAINED, "1,2,3", ""), (SHIPPED, "1", "_fast"))],
    (f"{GUIDED}/benchmark_sizes/benchmark.json",
     "portrait-garden benchmark --model exports/groups_ship exports/refine_ship --no-peer "
     f"--repeats 30 --photo-sizes 480x640 720x960 1080x1920 --out {GUIDED}/benchmark_sizes"),
    ("results/benchmark/benchmark.json",
     f"portrait-garden benchmark --model {OLD_FAST} exports/instance_float "
     f"exports/instance_prune50 exports/instance_qat exports/instance_prune50_qat "
     f"--dataset pfcn --split val {DATA} "
     "--photo-sizes 480x640 720x960 1080x1920 --out results/benchmark"),
]


def load(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return json.load(f)


def command(path):
    return next(c for p, c in JOBS if p == path)


def f4(x):
    return "-" if x is None else f"{x:.4f}"


def render():
    out = []
    add = out.append
    add("Every figure below is rendered by `python tools/readme_results.py` from the JSON "
        "written by the command shown with it (`--run` re-runs them), on this repository's "
        "2-core CPU machine; none is typed by hand.\n")

    # Ablation.
    rows = load("results/ablation.json")
    add("### Ablation: the paper's blocks vs a plain encoder-decoder\n")
    add(f"`{command('results/ablation.json')}` (recipes `ablation_plain_mbv2_050_224.yaml` / "
        "`ablation_paper_mbv2_050_224.yaml`: width 0.5, 224x224, same data, schedule and seed, "
        "from scratch; val = PFCN val letterboxed by the trainer):\n")
    budget = rows[0]["budget_seconds"]
    add("| run | deep sup. / cat. attention / boundary | epochs | final val IoU | best (epoch) "
        f"| val IoU at {budget:.0f} s | wall time | `evaluate` PFCN val | 2-class mIoU | "
        "boundary F (3 px) |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = load(f"results/eval_{r['run']}.json")
        blocks = " / ".join("on" if v else "off" for v in r["blocks"].values())
        add(f"| {r['run']} | {blocks} | {r['epochs']} | {r['final_val_iou']:.4f} | "
            f"{r['best_val_iou']:.4f} ({r['best_epoch']}) | {r['val_iou_at_budget']:.4f} | "
            f"{r['wall_minutes']:.1f} min | {f4(e['person_iou'])} | {f4(e['miou'])} | "
            f"{f4(e['boundary_f'])} |")
    add(f"\n`evaluate` column: `{command('results/eval_ablation_paper.json')}` (and the same for "
        "`ablation_plain`), at each photo's own resolution.\n")

    # Shipped model.
    sections = {"ablation": out}
    out = []
    add = out.append
    sections["shipped"] = out
    add("### History: the fast preset before distillation (MobileNetV2 0.5 from scratch)\n")
    add(f"Until session 26 `{SHIPPED}/` held this model; its files are in git at commit "
        f"0501d65 (`{OLD_FAST}` in the commands; restore it with `git archive`, see "
        "`tools/readme_results.py`). Float16 and full-integer int8 (QAT) `.tflite`, one "
        "command per cell "
        f"group: `{command('results/eval_float16_pfcn.json')}` and likewise for the other "
        "files and datasets (`vikram` and `pfg_sports` are held out from training).\n")
    add("| file | dataset | images | person IoU | mean image IoU | 2-class mIoU | boundary F "
        "(3 px) | mask AP | AP50 | AP75 |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for p in ("float16", "int8"):
        for d in ("pfcn", "vikram", "pfg_sports"):
            e = load(f"results/eval_{p}_{d}.json")
            add(f"| model_{p}.tflite | {e['dataset']} | {e['images']} | {f4(e['person_iou'])} | "
                f"{f4(e['mean_image_iou'])} | {f4(e['miou'])} | {f4(e['boundary_f'])} | "
                f"{f4(e.get('mask_ap'))} | {f4(e.get('mask_ap50'))} | {f4(e.get('mask_ap75'))} |")
    add("\nMask AP in this section (this preset's tables and the ones below) was measured "
        "before evaluation became COCO-standard: against the repainted, non-overlapping label "
        "map, with the export's 0.15 threshold. It has not been re-run with the new metric "
        "(`python tools/readme_results.py --run --only pfg_sports` does it).")
    add("\nWhat the affinity model buys over the box baseline on `pfg_sports` "
        f"(`{command('results/eval_affinity_pfg_sports.json')}`, and `--grouping box`):\n")
    add("| model | grouping | mask AP | AP50 | AP75 |")
    add("|---|---|---|---|---|")
    for g in ("affinity", "box"):
        e = load(f"results/eval_{g}_pfg_sports.json")
        add(f"| model.keras | {g} | {f4(e['mask_ap'])} | {f4(e['mask_ap50'])} | "
            f"{f4(e['mask_ap75'])} |")
    e = load("results/eval_float32_pfg_sports.json")
    add(f"| float32 .tflite export of it | affinity | {f4(e['mask_ap'])} | {f4(e['mask_ap50'])} | "
        f"{f4(e['mask_ap75'])} |")
    add("\nThe float32 `.tflite` matches the Keras model; float16 and int8 lose AP because the "
        "detector's weak centre peaks (0.2-0.4) sit near the 0.15 score threshold "
        f"(`{command('results/eval_float32_pfg_sports.json')}`).")

    # Benchmark: stages and peer.
    bench = load("results/benchmark/benchmark.json")
    rows = bench["rows"]
    by_name = {r["name"]: r for r in rows}
    add("\n### Float, pruned and QAT side by side, and MediaPipe's selfie segmenter\n")
    add(f"`{command('results/benchmark/benchmark.json')}`: person IoU on the "
        f"{bench['photos']} PFCN val photos, sizes, and latency of {bench['repeats']} runs at "
        "256x256 with ai-edge-litert in one run on one machine. `exports/instance_*` are "
        "`portrait-garden export` of the float run, of the 50%-pruned run "
        "(`pruned_stripped.keras`), of the QAT run (`best.h5`) and of the sparsity-preserving "
        "QAT run of the pruned model (`..._prune50_qat.yaml`, `best.h5`); their recipes' "
        "headers have the commands. `network_*` files are the network alone (letterboxed "
        "canvas in, logits out), the like-for-like comparison with MediaPipe's network.\n")
    add(open(os.path.join(ROOT, "results/benchmark/benchmark.md"), encoding="utf-8").read())
    add("![accuracy vs latency](results/benchmark/benchmark.png)\n")
    for o in bench["pipeline_overhead"]:
        if o["threads"] == 1:
            add(f"- `{o['export']}` {o['precision']}, 1 thread: network {o['network_ms']:.2f} "
                f"ms, whole pipeline {o['pipeline_ms']:.2f} ms: pre/post-processing + "
                f"superpixels + affinity add {o['pipeline_ms'] - o['network_ms']:.2f} ms.")
    shipped_sizes = [r for r in bench.get("photo_sizes", [])
                     if r["name"].split("/")[0] in OLD_NAMES]
    if shipped_sizes:
        sizes = list(dict.fromkeys(r["photo_size"] for r in shipped_sizes))
        names = list(dict.fromkeys(r["name"] for r in shipped_sizes))
        ms = {(r["name"], r["photo_size"]): r["median_ms"] for r in shipped_sizes}
        add("\nThe outputs are at photo resolution, so larger photos cost more (same command, "
            "`--photo-sizes`; whole pipeline, 1 thread, median ms; 256x256 from the table "
            "above):\n")
        add("| file | 256x256 | " + " | ".join(sizes) + " |")
        add("|---|---|" + "---|" * len(sizes))
        for name in names:
            add(f"| {name.split('/')[-1]} | {by_name[name]['median_ms_1t']:.2f} | "
                + " | ".join(f"{ms[(name, size)]:.2f}" for size in sizes) + " |")
        add("")
    by = {r["name"]: r for r in rows}
    pqat = by.get("instance_prune50_qat/model_int8.tflite")
    qat = by.get("instance_qat/model_int8.tflite")
    if pqat and qat:
        add(f"- Pruned + sparsity-preserving QAT int8: person IoU {pqat['person_iou']:.4f} "
            f"(QAT int8 {qat['person_iou']:.4f}), {pqat['gzip_bytes']:,} bytes gzip'd, "
            f"{qat['gzip_bytes'] / pqat['gzip_bytes']:.2f}x smaller than the dense QAT int8.")
    add("")

    # Targets.
    out = []
    add = out.append
    sections["targets"] = out
    by = {r["name"]: r for r in rows}
    peer = next(r for r in rows if r["kind"] == "peer")
    shipped = next(n for n in OLD_NAMES if f"{n}/network_int8.tflite" in by)
    f16, i8 = load("results/eval_float16_pfcn.json"), load("results/eval_int8_pfcn.json")
    vik = load("results/eval_float16_vikram.json")
    sports = load("results/eval_int8_pfg_sports.json")
    net8 = by[f"{shipped}/network_int8.tflite"]
    qat = by["instance_qat/model_int8.tflite"]
    float32 = by["instance_float/model_float32.tflite"]
    pruned = by["instance_prune50/model_float32.tflite"]
    overhead = [o for o in bench["pipeline_overhead"] if o["threads"] == 1
                and o["export"] == shipped]
    add("### Targets of the fast preset before distillation\n")
    add("| target | figure | |")
    add("|---|---|---|")

    def target(name, figure, met):
        add(f"| {name} | {figure} | {'met' if met else '**missed**'} |")

    target("PFCN val person IoU >= 0.95 (shipped float16)", f4(f16["person_iou"]),
           f16["person_iou"] >= 0.95)
    target("vikram person IoU >= 0.88", f4(vik["person_iou"]), vik["person_iou"] >= 0.88)
    target("pfg_sports mask AP50 >= 0.50 (shipped int8)", f4(sports["mask_ap50"]),
           sports["mask_ap50"] >= 0.5)
    target("shipped int8 within 1.0 IoU point of float16 (PFCN val)",
           f"{100 * (i8['person_iou'] - f16['person_iou']):+.2f} points",
           i8["person_iou"] >= f16["person_iou"] - 0.01)
    target("QAT int8 within 1.0 point of float (benchmark, PFCN val)",
           f"{100 * (qat['person_iou'] - float32['person_iou']):+.2f} points",
           qat["person_iou"] >= float32["person_iou"] - 0.01)
    target("50% pruned within 1.0 point of float",
           f"{100 * (pruned['person_iou'] - float32['person_iou']):+.2f} points",
           pruned["person_iou"] >= float32["person_iou"] - 0.01)
    ratio = float32["gzip_bytes"] / pruned["gzip_bytes"]
    target("pruned gzip'd .tflite >= 1.6x smaller than dense (float32)", f"{ratio:.2f}x",
           ratio >= 1.6)
    target("int8 network latency <= 2x MediaPipe (1 thread)",
           f"{net8['median_ms_1t']:.2f} ms vs {peer['median_ms_1t']:.2f} ms "
           f"({net8['vs_peer_1t']:.2f}x)", net8["vs_peer_1t"] <= 2.0)
    for o in overhead:
        added = o["pipeline_ms"] - o["network_ms"]
        target(f"grouping + pre/post add <= 5 ms over the network ({o['precision']}, 1 thread)",
               f"{added:.2f} ms", added <= 5.0)
    if os.path.exists(os.path.join(ROOT, PRE, "eval_float16_pfcn.json")):
        sections["pretrained"] = (render_pretrained() + render_distill()
                                  + render_pretrained_ablation())
    sections["fast"] = render_distill()
    sections["targets"] += render_coco_standard() + render_photo_sizes()
    return {k: "\n".join(v) + "\n" for k, v in sections.items()}


def render_coco_standard():
    """Detection of the default preset (issue: finding every person): the serving
    threshold chosen on pfg_sports dev, COCO-standard mask AP, the test split at serving
    settings, what more box slots cost, and the targets."""
    out = ["", "### Finding every person: the default preset on pfg_sports (held out)\n"]
    add = out.append
    sweep_path = f"{SERVING}/default_dev_sweep.json"
    if not os.path.exists(os.path.join(ROOT, sweep_path)):
        return []
    sweep = load(sweep_path)
    served = load(f"{PRETRAINED}/export.json")["serving_config"]
    best, shipped = sweep["best_threshold"], served["score_threshold"]
    by_threshold = {round(r["threshold"], 2): r for r in sweep["rows"]}
    add(f"**Serving threshold, chosen on the dev split** ({sweep['images']} photos, "
        f"{sweep['persons']} persons; `{command(sweep_path)}`): the served pipeline at each "
        f"threshold ({sweep['max_detections']} slots, NMS IoU {served['nms_iou']}), a true "
        f"positive is a served mask at IoU >= {sweep['iou']}. Best F1: **{best:.2f}**.")
    if round(shipped, 2) == round(best, 2):
        out[-1] += (" It is written into the preset's `config.yaml` (`score_threshold` and "
                    "`priority_score`) and exported.\n")
    else:
        a, b = by_threshold[round(best, 2)], by_threshold[round(shipped, 2)]
        out[-1] += (f" The preset serves at **{shipped:.2f}** (`score_threshold` and "
                    f"`priority_score` in its `config.yaml`; model card): F1 {b['f1']:.3f} "
                    f"vs {a['f1']:.3f} at {best:.2f}, recall {b['recall']:.3f} vs "
                    f"{a['recall']:.3f}, AP50 {b['mask_ap50']:.3f} vs {a['mask_ap50']:.3f}, "
                    "on dev.\n")
    add("| score threshold | precision | recall | F1 | mask AP | AP50 |")
    add("|---|---|---|---|---|---|")
    for r in sweep["rows"]:
        if r["threshold"] <= 0.4:
            add(f"| {r['threshold']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                f"{r['f1']:.3f} | {r['mask_ap']:.3f} | {r['mask_ap50']:.3f} |")
    rows = [("`model.keras`, affinity grouping (all 70 photos)",
             f"{COCO}/default_keras_pfg_sports.json"),
            ("`model.keras`, box grouping (all 70 photos)",
             f"{COCO}/default_keras_box_pfg_sports.json"),
            ("`model_float16.tflite`, serving settings (test split)",
             f"{SERVING}/default_float16_pfg_sports_test.json"),
            ("`model_int8.tflite`, serving settings (test split)",
             f"{SERVING}/default_int8_pfg_sports_test.json"),
            ("float16 export at the score floor 0.05 (test split)",
             f"{SERVING}/default_float16_floor_pfg_sports_test.json"),
            ("int8 export at the score floor 0.05 (test split)",
             f"{SERVING}/default_int8_floor_pfg_sports_test.json")]
    found = {p: load(p) for _, p in rows if os.path.exists(os.path.join(ROOT, p))}
    add("\n**Mask AP, COCO-standard**: ground truth from the original annotations (overlaps "
        "kept, crowd ignored), pycocotools `COCOeval`. The `.keras` rows keep every detection "
        "down to a score of 0.05 in 16 slots, with the preset's `priority_score` (boxes at the "
        f"serving threshold or above keep the pixels they cover): `{command(rows[0][1])}` "
        "(and `--grouping box`). The exports keep only what they serve (the threshold "
        f"above): `{command(rows[2][1])}` and likewise for int8. The floor rows are the same "
        f"model exported with the threshold at 0.05 (`{command(f'{FLOOR_EXPORT}/export.json')}`), "
        "so that int8 and float16 are compared over the whole precision-recall curve "
        "(`results/int8_islands/findings.md`: where int8 loses detections).\n")
    add("| model | images | mask AP | AP50 | AP75 | person IoU | boundary F (3 px) |")
    add("|---|---|---|---|---|---|---|")
    for label, p in rows:
        if p in found:
            r = found[p]
            add(f"| {label} | {r['images']} | {r['mask_ap']:.3f} | {r['mask_ap50']:.3f} | "
                f"{r['mask_ap75']:.3f} | {r['person_iou']:.4f} | {r['boundary_f']:.4f} |")
    bench_path = f"{SERVING}/benchmark_slots/benchmark.json"
    overhead = {}
    if os.path.exists(os.path.join(ROOT, bench_path)):
        bench = load(bench_path)
        overhead = {o["export"]: o for o in bench["pipeline_overhead"]
                    if o["threads"] == 1 and o["precision"] == "int8"}
        add(f"\n**Box slots** (`{command(bench_path)}`; `exports/default_8slots` is the same "
            "model exported with `--max-detections 8`; int8, 1 thread, one run, CPU "
            f"`{bench.get('cpu', 'see benchmark.json')}`):\n")
        for name, o in overhead.items():
            add(f"- `{name}`: network {o['network_ms']:.2f} ms, whole pipeline "
                f"{o['pipeline_ms']:.2f} ms, so the pipeline adds "
                f"{o['pipeline_ms'] - o['network_ms']:.2f} ms.")
        by_name = {r["name"]: r for r in bench["rows"]}
        peer = next((r for r in bench["rows"] if r["kind"] == "peer"), None)
        ours = by_name.get(f"{os.path.basename(PRETRAINED)}/model_float16.tflite")
        if peer and ours:
            add(f"- Person IoU on these {bench['photos']} sports photos (one mask for all "
                f"persons): MediaPipe's selfie segmenter {peer['person_iou']:.4f}, this "
                f"preset's float16 pipeline {ours['person_iou']:.4f}.")
    add("\n| target (issue: finding every person) | figure | |")
    add("|---|---|---|")

    def target(label, figure, met):
        add(f"| {label} | {figure} | {'met' if met else '**missed**'} |")

    keras_aff = found.get(rows[0][1])
    keras_box = found.get(rows[1][1])
    f16, i8 = found.get(rows[2][1]), found.get(rows[3][1])
    f16_floor, i8_floor = found.get(rows[4][1]), found.get(rows[5][1])
    if keras_aff:
        target("pfg_sports mask AP50 >= 0.60 (`model.keras`, COCO-standard)",
               f"{keras_aff['mask_ap50']:.3f}", keras_aff["mask_ap50"] >= 0.60)
        target("pfg_sports mask AP >= 0.30 (`model.keras`, COCO-standard)",
               f"{keras_aff['mask_ap']:.3f}", keras_aff["mask_ap"] >= 0.30)
    if f16 and i8:
        target("int8 within 0.02 AP50 of float (exports at serving settings, test split)",
               f"{i8['mask_ap50']:.3f} vs {f16['mask_ap50']:.3f} "
               f"({i8['mask_ap50'] - f16['mask_ap50']:+.4f})",
               i8["mask_ap50"] >= f16["mask_ap50"] - 0.02)
    if f16_floor and i8_floor:
        target("int8 within 0.02 AP50 of float (exports at the score floor 0.05, test split)",
               f"{i8_floor['mask_ap50']:.3f} vs {f16_floor['mask_ap50']:.3f} "
               f"({i8_floor['mask_ap50'] - f16_floor['mask_ap50']:+.4f})",
               i8_floor["mask_ap50"] >= f16_floor["mask_ap50"] - 0.02)
    if keras_aff and keras_box:
        target("affinity grouping beats box grouping by >= 0.05 AP50",
               f"{keras_aff['mask_ap50'] - keras_box['mask_ap50']:+.3f}",
               keras_aff["mask_ap50"] >= keras_box["mask_ap50"] + 0.05)
    eight, sixteen = overhead.get("default_8slots"), overhead.get(os.path.basename(PRETRAINED))
    if eight and sixteen:
        a8 = eight["pipeline_ms"] - eight["network_ms"]
        a16 = sixteen["pipeline_ms"] - sixteen["network_ms"]
        target("16 slots: what the pipeline adds grows <= 10% over 8 slots (int8, 1 thread)",
               f"{a8:.2f} -> {a16:.2f} ms ({100 * (a16 / a8 - 1):+.0f}%)", a16 <= 1.1 * a8)
    proxy_path = f"{HELDOUT}/proxy_keras_coco128_val.json"
    if os.path.exists(os.path.join(ROOT, proxy_path)):
        r = load(proxy_path)
        add("| coco128 persons: AP / AP50 on a fixed held-out part not trained on | "
            f"{r['mask_ap']:.3f} / {r['mask_ap50']:.3f} for a short-schedule proxy of the "
            "default's recipe (below) | reported for the proxy; the default itself trained "
            "on every coco128 photo, so its own held-out figure is **not measured** |")
    return out + render_coco128_heldout()


def render_coco128_heldout():
    """coco128 persons on the fixed held-out part: the proxy that never saw it, and the
    default, which trained on it (an upper bound, not a result)."""
    rows = [("proxy (short schedule, never saw the val part)", "proxy", "val"),
            ("proxy, on its own training photos", "proxy", "train"),
            ("shipped default (trained on every coco128 photo)", "default", "val"),
            ("shipped default, train part", "default", "train")]
    paths = {(n, s): f"{HELDOUT}/{n}_keras_coco128_{s}.json" for _, n, s in rows}
    if not os.path.exists(os.path.join(ROOT, paths[("proxy", "val")])):
        return []
    out = ["", "### coco128 persons on a fixed held-out part\n"]
    add = out.append
    add("`portrait_garden/data/splits/coco128/val.txt`: 25 photos (13 with 53 persons, 12 "
        "without), never trained on by the proxy: the default's recipe on a short schedule "
        "(`recipes/portrait_instance_mbv2_100_256_imagenet_heldout_neck.yaml`, then "
        "`..._heldout_joint.yaml`; 2 x 1,250 steps from the segmentation network, which never "
        "saw coco128). The shipped default trained on all 100 photos, so its rows are on "
        "photos it has seen, not a held-out result. COCO-standard, `.keras`, score floor "
        "0.05: "
        f"`{command(paths[('proxy', 'val')])}`; findings in `{HELDOUT}/findings.md`.\n")
    add("| model | coco128 part | images | mask AP | AP50 | AP75 | person IoU |")
    add("|---|---|---|---|---|---|---|")
    for label, name, split in rows:
        path = paths[(name, split)]
        if os.path.exists(os.path.join(ROOT, path)):
            r = load(path)
            add(f"| {label} | {split} | {r['images']} | {r['mask_ap']:.3f} | "
                f"{r['mask_ap50']:.3f} | {r['mask_ap75']:.3f} | {r['person_iou']:.4f} |")
    sports = [(label, p) for label, p in (
        ("proxy", f"{HELDOUT}/proxy_keras_pfg_sports.json"),
        ("shipped default", f"{COCO}/default_keras_pfg_sports.json"))
        if os.path.exists(os.path.join(ROOT, p))]
    if len(sports) == 2:
        a, b = (load(p) for _, p in sports)
        add(f"\nHow far the proxy is from the default, on pfg_sports (all 70, same command): "
            f"AP50 {a['mask_ap50']:.3f} vs {b['mask_ap50']:.3f}, AP {a['mask_ap']:.3f} vs "
            f"{b['mask_ap']:.3f}.")
    return out


def render_photo_sizes():
    """Whole-pipeline latency by photo size: the fast preset's shipped files (2-tap
    letterbox, network-resolution labels) against a re-export of the same model.keras."""
    path = "results/photo_sizes/benchmark.json"
    if not os.path.exists(os.path.join(ROOT, path)):
        return []
    bench = load(path)
    out = ["", "### Cost of photo-resolution labels and the antialiased letterbox\n"]
    add = out.append
    add(f"`{command('exports/fast_photo_res/export.json')}`, then `{command(path)}` "
        f"(1 thread, ai-edge-litert, CPU `{bench['cpu']}`, one run). The old fast preset "
        "holds files exported before both changes; `exports/fast_photo_res` is the same "
        "`model.keras` exported now (int8 there is post-training, not QAT).\n")
    out += _photo_size_table(bench)
    by = {(r["name"], r["photo_size"]): r["median_ms"] for r in bench["photo_sizes"]}
    old = next((f"{n}/model_int8.tflite" for n in OLD_NAMES
                if (f"{n}/model_int8.tflite", "1080x1920") in by), None)
    new = "fast_photo_res/model_int8.tflite"
    if old and (old, "1080x1920") in by and (new, "1080x1920") in by:
        ratio = by[(new, "1080x1920")] / by[(old, "1080x1920")]
        add(f"\nAt 1080x1920 the new int8 pipeline takes {ratio:.2f}x the old one "
            f"(budget 1.3x: {'met' if ratio <= 1.3 else '**missed**'}).")
    return out


def _photo_models(bench):
    return list(dict.fromkeys(r["name"] for r in bench["photo_sizes"]))


def _photo_size_table(bench):
    """Whole-pipeline median ms by photo size, one column per file of a benchmark run."""
    models = _photo_models(bench)
    sizes = sorted({r["photo_size"] for r in bench["photo_sizes"]},
                   key=lambda v: int(v.split("x")[0]))
    by = {(r["name"], r["photo_size"]): r["median_ms"] for r in bench["photo_sizes"]}
    return (["| photo | " + " | ".join(f"`{n}`" for n in models) + " |",
             "|---|" + "---|" * len(models)]
            + [f"| {size} | " + " | ".join(f"{by[(n, size)]:.2f} ms" for n in models) + " |"
               for size in sizes])


def render_pretrained_ablation():
    """The paper's blocks on vs off on the ImageNet-pretrained backbone (same data, steps,
    seed), both scored at their last step."""
    path = f"{PRE}/ablation.json"
    if not os.path.exists(os.path.join(ROOT, path)):
        return []
    out = []
    add = out.append
    rows = load(path)
    add("### Ablation on the ImageNet-pretrained backbone\n")
    add(f"`{command(path)}` (recipes `ablation_paper_mbv2_100_224_imagenet.yaml` / "
        "`ablation_plain_mbv2_100_224_imagenet.yaml`: MobileNetV2 1.0 from ImageNet, 224x224, "
        "400 steps of 16 with light augmentation, same data and seed; both scored at their "
        "last step):\n")
    add("| run | deep sup. / cat. attention / boundary | trainer val IoU (last) | wall time | "
        "`evaluate` PFCN val | boundary F (3 px) | vikram val | boundary F (3 px) |")
    add("|---|---|---|---|---|---|---|---|")
    for r in rows:
        kind = r["run"].split("_")[1]
        e = {d: load(f"{PRE}/eval_ablation_{kind}_{d}.json") for d in ("pfcn", "vikram")}
        blocks = " / ".join("on" if v else "off" for v in r["blocks"].values())
        add(f"| {r['run']} | {blocks} | {r['final_val_iou']:.4f} | {r['wall_minutes']:.1f} min | "
            f"{f4(e['pfcn']['person_iou'])} | {f4(e['pfcn']['boundary_f'])} | "
            f"{f4(e['vikram']['person_iou'])} | {f4(e['vikram']['boundary_f'])} |")
    by_kind = {r["run"].split("_")[1]: r for r in rows}
    if {"paper", "plain"} <= set(by_kind):
        diff = {d: 100 * (load(f"{PRE}/eval_ablation_paper_{d}.json")["person_iou"]
                          - load(f"{PRE}/eval_ablation_plain_{d}.json")["person_iou"])
                for d in ("pfcn", "vikram")}
        ratio = by_kind["paper"]["wall_minutes"] / by_kind["plain"]["wall_minutes"]
        add(f"\nAt equal steps the paper's blocks are {diff['pfcn']:+.2f} IoU points on PFCN val "
            f"and {diff['vikram']:+.2f} on vikram val (one seed each: a difference this small "
            f"may be run-to-run noise), for {ratio:.1f}x the wall time per run (the paper run "
            "shared the CPU with evaluations for part of its time).")
    add(f"\n`evaluate` columns: `{command(PRE + '/eval_ablation_paper_pfcn.json')}` and likewise, "
        "at each photo's own resolution (the segmentation network alone, letterboxed).\n")
    return out


def render_pretrained():
    """The ImageNet-pretrained width-1.0 model: accuracy, MediaPipe in the same run, targets."""
    out = []
    add = out.append
    name = os.path.basename(PRETRAINED)
    add(f"### The accurate preset (the default): `{PRETRAINED}/`\n")
    add("MobileNetV2 1.0 initialised from ImageNet, trained segmentation first in seven "
        "stages (recipes `portrait_seg_mbv2_100_256_imagenet.yaml`: the segmentation network "
        "alone, 1,400 steps; `portrait_instance_mbv2_100_256_imagenet_neck.yaml`: the detector "
        "with its own neck on the frozen network, 1,800 steps; "
        "`portrait_instance_mbv2_100_256_imagenet_neck_joint.yaml`: everything together at a "
        "low learning rate, 600 steps; `..._neck_joint_long.yaml` and `..._stage5.yaml`: "
        "everything together again, twice 1,500 steps with cosine decay (peaks 1e-4, 7e-5); "
        "`..._stage6_rows.yaml`: once more, 1,500 steps at 7e-5, with twice the composites "
        "and half of them laid out as rows of people side by side; `..._stage7_rows.yaml`: "
        "stage 6's recipe twice more with two data seeds, the two runs' weights averaged "
        "(`tools/model_soup.py`); about 466 minutes on 2 cores), float16 and "
        "post-training full-integer int8 "
        f"`.tflite`: `{command(PRE + '/eval_float16_pfcn.json')}` and likewise for the other "
        "files and sets. `vikram/val` is the fixed 50-photo split in "
        "`portrait_garden/data/splits/vikram/` (the other 182 vikram photos are trained on); "
        "`pfg_sports` is held out. Boundary F is measured on `instance_labels > 0`, what "
        "per-person effects use (photo-resolution edges).\n")
    add("| file | dataset | images | person IoU | mean image IoU | 2-class mIoU | boundary F "
        "(3 px) | mask AP | AP50 | AP75 |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    evals = {}
    for p in ("float16", "int8"):
        for d in ("pfcn", "vikram", "pfg_sports"):
            path = f"{PRE}/eval_{p}_{d}.json"
            if not os.path.exists(os.path.join(ROOT, path)):
                continue
            e = evals[(p, d)] = load(path)
            add(f"| model_{p}.tflite | {e['dataset']} | {e['images']} | {f4(e['person_iou'])} | "
                f"{f4(e['mean_image_iou'])} | {f4(e['miou'])} | {f4(e['boundary_f'])} | "
                f"{f4(e.get('mask_ap'))} | {f4(e.get('mask_ap50'))} | {f4(e.get('mask_ap75'))} |")
    benches = {}
    for d in ("pfcn", "vikram"):
        path = f"{PRE}/benchmark_{d}/benchmark.json"
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        bench = benches[d] = load(path)
        add(f"\nAgainst MediaPipe's selfie segmenter on the same {bench['photos']} "
            f"{d} val photos, in one run (`{command(path)}`; latency: {bench['repeats']} runs "
            f"at 256x256, ai-edge-litert, CPU `{bench.get('cpu', 'see benchmark.json')}`):\n")
        add(open(os.path.join(ROOT, PRE, f"benchmark_{d}", "benchmark.md"),
                 encoding="utf-8").read())
    add("")
    loads = [b.get("load_1min_before") for b in benches.values()]
    if benches and any(v is None or v > 0.5 for v in loads):
        shown = ", ".join("?" if v is None else f"{v:.1f}" for v in loads)
        add("Latency caveat: the machine was not idle when these tables were measured (1-minute "
            f"load average before each run: {shown} on 2 cores); compare only ratios within "
            "one table.\n")
    add("| target (issue: ImageNet-pretrained backbone) | figure | |")
    add("|---|---|---|")

    def target(label, figure, met):
        add(f"| {label} | {figure} | {'met' if met else '**missed**'} |")

    f16, i8 = evals.get(("float16", "pfcn")), evals.get(("int8", "pfcn"))
    vik = evals.get(("float16", "vikram"))
    if f16:
        target("PFCN val person IoU >= 0.960 (float16)", f4(f16["person_iou"]),
               f16["person_iou"] >= 0.960)
    if vik:
        target("vikram val person IoU >= 0.88 (float16)",
               f"{f4(vik['person_iou'])} (boundary F {f4(vik['boundary_f'])})",
               vik["person_iou"] >= 0.88)
    if f16 and i8:
        target("int8 within 0.5 points of float16 (PFCN val)",
               f"{100 * (i8['person_iou'] - f16['person_iou']):+.2f} points",
               i8["person_iou"] >= f16["person_iou"] - 0.005)
    if "pfcn" in benches:
        add("")
        out += latency_lines(benches["pfcn"], name)
    return out + render_guided()


def render_guided():
    """Bilinear against guided upsampling of the person mask, per preset (`model.keras`)."""
    probes = [(n, f"{GUIDED}/{f}") for n, f in (("accurate (default)", "probe_cells2.json"),
                                                ("fast", "probe_cells2_fast.json"))
              if os.path.exists(os.path.join(ROOT, f"{GUIDED}/{f}"))]
    if not probes:
        return []
    out = ["\n#### Edge-aware upsampling of the person mask (`serving.refine_radius`)\n",
           "The network's 256x256 person probability is resized to the photo by a fast guided "
           "filter (`portrait_garden.ops.resample.guided_coefficients`: fitted on 2x2 cells "
           "of the canvas, applied to the photo's own grey levels) instead of bilinearly. "
           "Its radius was chosen on training photos (the first 150 of `pfcn/train`, all 182 "
           "of `vikram/train`); val was computed for the chosen radius only. `model.keras`, "
           "no retraining: `" + command(probes[0][1]) + "` (findings, and the full-resolution "
           f"and 4x4-cell versions that were not shipped: `{GUIDED}/findings.md`). Every file of "
           "both presets includes it; the int8 files since their post-processing runs in "
           "float32 (`results/int8_islands/findings.md`, sections 6-7).\n",
           "| preset | upsampling | pfcn train[:150] | vikram train | PFCN val | vikram val |",
           "|---|---|---|---|---|---|"]
    for name, path in probes:
        probe = load(path)
        chosen = str(probe["chosen"])
        for key, label in (("0", "bilinear"),
                           (chosen, f"guided, {probe['scale']}x{probe['scale']} cells, "
                                    f"radius {chosen}, eps {probe['eps']:g}")):
            sel, val = probe["selection"], probe["val"]
            out.append(f"| {name} | {label} | {f4(sel['pfcn'][key])} | "
                       f"{f4(sel['vikram'][key])} | {f4(val['pfcn'][key])} | "
                       f"{f4(val['vikram'][key])} |")
    path = f"{GUIDED}/benchmark_sizes/benchmark.json"
    if os.path.exists(os.path.join(ROOT, path)):
        bench = load(path)
        out += ["", "What it costs, whole pipeline by photo size: the default's files exported "
                "without it (`exports/groups_ship`: the files shipped until 2026-11-28, "
                "git e5d3aff) and with it "
                f"(`exports/refine_ship`, shipped), `{command(path)}` (1 thread, ai-edge-litert, "
                f"CPU `{bench['cpu']}`, one run):\n"] + _photo_size_table(bench)
    return out + [""]


def latency_lines(bench, preset_name, source=""):
    """One line per file of a preset: 1-thread median ms against MediaPipe's from the same
    benchmark run (`source`: text added to each line, e.g. the command)."""
    rows = {r["name"]: r for r in bench["rows"]}
    peer = next(r for r in bench["rows"] if r["kind"] == "peer")
    lines = []
    for file, what in (("network_int8", "int8 network alone (like MediaPipe's file)"),
                       ("model_int8", "whole pipeline int8"),
                       ("model_float16", "whole pipeline float16")):
        r = rows.get(f"{preset_name}/{file}.tflite")
        if r:
            lines.append(f"- {what}, 1 thread: {r['median_ms_1t']:.2f} ms vs MediaPipe "
                         f"{peer['median_ms_1t']:.2f} ms ({r['vs_peer_1t']:.2f}x), same run"
                         f"{source}.")
    return lines


def render_distill():
    """The fast preset: the width-0.5 student distilled three times from the accurate preset
    (round 3, from the row-composite default, is shipped), round 1's control without the
    teacher, the shipped files, and the distillation issue's targets."""
    paths = {(m, d): f"{DIST}/eval_{m}_{d}.json"
             for m in ("distill_keras", "control_keras", "distill2_keras", "distill3_keras",
                       "float16", "int8", "round1_float16", "round1_int8", "round2_float16",
                       "round2_int8", "replaced")
             for d in ("pfcn", "vikram")}
    # The first teacher was the default preset before its fourth stage (git 15ed477), the
    # second the 5-stage default (git 33261e3), the third the row-composite default (git
    # bbcb973); their evaluations were copied here from `PRE`, so that a newer default
    # does not change the teachers' rows.
    paths.update({(t, d): f"{DIST}/eval_{t}_float16_{d}.json"
                  for t in ("teacher", "teacher2", "teacher3") for d in ("pfcn", "vikram")})
    e = {k: load(p) for k, p in paths.items() if os.path.exists(os.path.join(ROOT, p))}
    if ("float16", "pfcn") not in e:
        return []
    out = []
    add = out.append
    add(f"### The fast preset: `{SHIPPED}/`, distilled from the accurate one\n")
    add("The paper's network at width 0.5 with the CenterNet detector (no neck), distilled "
        "three times from the accurate preset: with the supervised losses plus the teacher's "
        "person mask and centre heatmap as targets, on the teacher's data plus 1,094 "
        "unlabelled ccp photos, then quantization-aware training with the teacher still "
        "on (`..._distill_qat.yaml`). Round 1 (`recipes/portrait_instance_mbv2_050_256_"
        "distill.yaml`, 4 x 200 steps of 16) started from the from-scratch fast preset; its "
        "control is the same run without the teacher and the unlabelled photos (same "
        "steps, labelled data and seed). Round 2 "
        "(`recipes/portrait_instance_mbv2_050_256_distill2.yaml`, 5 x 300 steps) started "
        "from round 1's float network and learnt from the 5-stage default. Round 3, shipped "
        "(`recipes/portrait_instance_mbv2_050_256_distill3_rows.yaml`, 5 x 300 steps), "
        "starts from round 2's float network, learns from the row-composite default, and "
        "sees its row composites; its `last.keras` is shipped (the rule fixed before the "
        "run, `results/distill3/findings.md`). Rounds 2 and 3 have no control run. "
        f"Commands: `{command(paths[('distill3_keras', 'pfcn')])}`, "
        f"`{command(paths[('float16', 'pfcn')])}` and likewise.\n")
    add("| model | PFCN val IoU | boundary F | vikram val IoU | boundary F |")
    add("|---|---|---|---|---|")
    round1 = "round 1: "
    labels = {"teacher": "teacher of round 1: the accurate preset before its 4th stage "
                         "(git 15ed477), `model_float16.tflite`",
              "teacher2": "teacher of round 2: the 5-stage accurate preset (git 33261e3), "
                          "`model_float16.tflite`",
              "teacher3": "teacher of round 3: the row-composite accurate preset (git "
                          "bbcb973), `model_float16.tflite`",
              "distill_keras": f"{round1}distilled student, `best.keras`",
              "control_keras": f"{round1}control (no teacher), `best.keras`",
              "round1_float16": f"round 1 as shipped until round 2, `{ROUND1_FAST}/"
                                "model_float16.tflite`",
              "round1_int8": f"round 1 as shipped until round 2, `{ROUND1_FAST}/"
                             "model_int8.tflite` (QAT)",
              "distill2_keras": "round 2: distilled student, `best.keras`",
              "round2_float16": f"round 2 as shipped until round 3, `{ROUND2_FAST}/"
                                "model_float16.tflite`",
              "round2_int8": f"round 2 as shipped until round 3, `{ROUND2_FAST}/"
                             "model_int8.tflite` (QAT)",
              "distill3_keras": "round 3: distilled student, `model.keras` (its `last.keras`)",
              "float16": "shipped `model_float16.tflite`",
              "int8": "shipped `model_int8.tflite` (QAT)",
              "replaced": f"the from-scratch fast preset, `{OLD_FAST}/model_float16.tflite`"}
    for m, label in labels.items():
        if (m, "pfcn") in e and (m, "vikram") in e:
            p, v = e[(m, "pfcn")], e[(m, "vikram")]
            add(f"| {label} | {f4(p['person_iou'])} | {f4(p['boundary_f'])} | "
                f"{f4(v['person_iou'])} | {f4(v['boundary_f'])} |")
    sports = {m: f"{DIST}/eval_{m}_pfg_sports.json"
              for m in ("float16", "int8", "round2_float16", "round2_int8")}
    sports = {m: load(p) for m, p in sports.items() if os.path.exists(os.path.join(ROOT, p))}
    if sports:
        add(f"\npfg_sports (held out, all 70 photos), each file at its own serving settings "
            f"(`{command(f'{DIST}/eval_float16_pfg_sports.json')}` and likewise):\n")
        add("| file | person IoU | mask AP | AP50 | AP75 |")
        add("|---|---|---|---|---|")
        for m, r in sports.items():
            add(f"| {labels[m]} | {f4(r['person_iou'])} | {f4(r.get('mask_ap'))} | "
                f"{f4(r.get('mask_ap50'))} | {f4(r.get('mask_ap75'))} |")
    add("\n| target (issue: the fast model) | figure | |")
    add("|---|---|---|")

    def target(label, figure, met):
        state = met if isinstance(met, str) else "met" if met else "**missed**"
        add(f"| {label} | {figure} | {state} |")

    def iou(m, d):
        return e[(m, d)]["person_iou"] if (m, d) in e else None

    for d, name in (("pfcn", "PFCN val"), ("vikram", "vikram val")):
        if iou("float16", d) is not None and iou("teacher3", d) is not None:
            gap = 100 * (iou("float16", d) - iou("teacher3", d))
            target(f"student float16 within 1.0 point of the teacher ({name})",
                   f"{gap:+.2f} points", gap >= -1.0)
    target("student float16 >= 0.955 on PFCN val", f4(iou("float16", "pfcn")),
           iou("float16", "pfcn") >= 0.955)
    for d, name in (("pfcn", "PFCN val"), ("vikram", "vikram val")):
        if iou("distill_keras", d) is not None and iou("control_keras", d) is not None:
            gain = 100 * (iou("distill_keras", d) - iou("control_keras", d))
            target(f"{round1}distilled minus control ({name}, `best.keras`; one seed each)",
                   f"{gain:+.2f} points", "gain" if gain >= 0.5 else "**loss**"
                   if gain <= -0.5 else "no clear difference")
    if iou("int8", "pfcn") is not None:
        gap = 100 * (iou("int8", "pfcn") - iou("float16", "pfcn"))
        target("QAT int8 within 0.5 points of float16 (PFCN val)", f"{gap:+.2f} points",
               gap >= -0.5)
    bench_path = f"{PRE}/benchmark_pfcn/benchmark.json"
    if os.path.exists(os.path.join(ROOT, bench_path)):
        bench = load(bench_path)
        add("")
        out += latency_lines(bench, os.path.basename(SHIPPED),
                             f" (`{command(bench_path)}`, CPU `{bench.get('cpu')}`)")
    add("")
    return out


PRESETS_BEGIN, PRESETS_END = "<!-- presets:begin -->", "<!-- presets:end -->"


def render_presets():
    """The README's first-screen table: both presets beside MediaPipe's selfie segmenter,
    from the two benchmark runs that hold them side by side."""
    benches = {}
    for d in ("pfcn", "vikram"):
        path = f"{PRE}/benchmark_{d}/benchmark.json"
        if os.path.exists(os.path.join(ROOT, path)):
            benches[d] = load(path)
    if "pfcn" not in benches:
        return ""
    iou = {(d, r["name"]): r.get("person_iou") for d, b in benches.items() for r in b["rows"]}
    pfcn = benches["pfcn"]
    out = ["| preset / file | PFCN val IoU | vikram val IoU | bytes | 1 thread ms | "
           "x MediaPipe |", "|---|---|---|---|---|---|"]
    for r in pfcn["rows"]:
        name = r["name"] if r["kind"] != "peer" else "MediaPipe selfie segmenter (peer)"
        if r["kind"] != "peer" and not r["name"].endswith(("model_float16.tflite",
                                                          "model_int8.tflite")):
            continue
        default = " (default)" if r["name"].startswith(os.path.basename(PRETRAINED)) else ""
        out.append(f"| {name}{default} | {f4(r.get('person_iou'))} | "
                   f"{f4(iou.get(('vikram', r['name'])))} | {r['bytes']:,} | "
                   f"{r['median_ms_1t']:.2f} | {r.get('vs_peer_1t', 1.0):.2f}x |")
    bench_command = command(f"{PRE}/benchmark_pfcn/benchmark.json")
    out.append(f"\nWhole pipeline (photo in, one mask per person out) at 256x256; MediaPipe's "
               "file is a network alone (one mask, no persons). Rendered by "
               f"`python tools/readme_results.py` from `{bench_command}` "
               f"and its `--dataset vikram` twin: one run each, CPU `{pfcn.get('cpu')}`.")
    return "\n".join(out) + "\n"


def preset_figures(preset):
    """`preset.json` of a shipped folder: per file, person IoU on each benchmarked set and
    1-thread latency, with MediaPipe's from the same run (the `{PRE}/benchmark_*` runs,
    which hold every preset side by side). None if those runs are missing."""
    name = os.path.basename(preset)
    figures = {"benchmark_commands": [], "files": {}}
    for d in ("pfcn", "vikram"):
        path = f"{PRE}/benchmark_{d}/benchmark.json"
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        bench = load(path)
        figures["benchmark_commands"].append(command(path))
        peer = next((r for r in bench["rows"] if r["kind"] == "peer"), None)
        for r in bench["rows"]:
            if not r["name"].startswith(f"{name}/"):
                continue
            row = figures["files"].setdefault(r["name"].split("/", 1)[1], {})
            row[f"{d}_val_person_iou"] = r.get("person_iou")
            if d == "pfcn":
                row.update(median_ms_1t=r["median_ms_1t"], vs_mediapipe_1t=r.get("vs_peer_1t"),
                           bytes=r["bytes"])
        if d == "pfcn":
            figures.update(cpu=bench.get("cpu"), load_1min_before=bench.get("load_1min_before"),
                           mediapipe_ms_1t=peer["median_ms_1t"] if peer else None,
                           mediapipe_pfcn_val_person_iou=peer.get("person_iou") if peer else None)
        elif peer:
            figures["mediapipe_vikram_val_person_iou"] = peer.get("person_iou")
    return figures if figures["files"] else None


def _after_intro(text, insert):
    """`text` with `insert` placed after its first paragraph (the section's intro)."""
    intro, rest = text.split("\n### ", 1)
    return f"{intro}\n{insert}\n### {rest}" if insert else text


def replace_between_markers(path, text, begin=BEGIN, end=END):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit(f"{path} lacks the {begin} / {end} markers.")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + text + end + tail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run every command first")
    parser.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                        help="with --run: only the commands whose output path contains TEXT")
    args = parser.parse_args()
    if args.only and not args.run:
        parser.error("--only selects commands to run; pass --run too.")
    if args.run:
        jobs = [(p, c) for p, c in JOBS if not args.only or any(t in p for t in args.only)]
        if not jobs:
            parser.error(f"--only {args.only} matches none of {[p for p, _ in JOBS]}.")
        for path, cmd in jobs:
            os.makedirs(os.path.dirname(os.path.join(ROOT, path)), exist_ok=True)
            print(f"$ {cmd}", flush=True)
            subprocess.run(shlex.split(cmd), cwd=ROOT, check=True)
    sections = render()
    replace_between_markers(os.path.join(ROOT, "README.md"),
                            _after_intro(sections["ablation"], sections.get("pretrained", ""))
                            + "\n" + sections["shipped"] + "\n" + sections["targets"])
    presets = render_presets()
    if presets:
        replace_between_markers(os.path.join(ROOT, "README.md"), presets,
                                PRESETS_BEGIN, PRESETS_END)
    fast_card = sections["fast"] if sections["fast"].strip() else (
        sections["shipped"] + "\n" + sections["targets"])
    replace_between_markers(os.path.join(ROOT, SHIPPED, "MODEL_CARD.md"),
                            fast_card.replace("](results/", "](../../results/"))
    if "pretrained" in sections:
        replace_between_markers(os.path.join(ROOT, PRETRAINED, "MODEL_CARD.md"),
                                sections["pretrained"].replace("](results/", "](../../results/"))
    for preset in (SHIPPED, PRETRAINED):
        figures = preset_figures(preset)
        if figures:
            with open(os.path.join(ROOT, preset, "preset.json"), "w", encoding="utf-8") as f:
                json.dump(figures, f, indent=1)
                f.write("\n")
    print("README.md, the model cards and preset.json: results regenerated.")


if __name__ == "__main__":
    main()
