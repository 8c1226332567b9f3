"""`portrait-garden` command line: a thin layer over the library."""

import argparse
import dataclasses
import json
import os
import sys


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


def _default_model(path):
    """`--model`: a path, a preset name, or None for the default preset."""
    from portrait_garden.presets import resolve_model

    return resolve_model(path)


def _presets(args):
    from portrait_garden.presets import list_presets

    rows = list_presets()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        figures = r["figures"]
        default = " (default)" if r["default"] else ""
        print(f"{r['name']}{default}: {r['description']}")
        if not r["available"]:
            print(f"  not installed: {r['folder']} is missing")
            continue
        for name, f in figures.get("files", {}).items():
            iou = ", ".join(f"{k.replace('_person_iou', '')} IoU {v:.4f}" for k, v in f.items()
                            if k.endswith("_person_iou") and v is not None)
            print(f"  {name:<22} {f['bytes'] / 1e6:5.2f} MB  {iou}  {f['median_ms_1t']:.2f} ms "
                  f"1 thread ({f['vs_mediapipe_1t']:.2f}x MediaPipe)")
        if figures:
            print(f"  measured on {figures.get('cpu')}; MediaPipe "
                  f"{figures.get('mediapipe_ms_1t')} ms, PFCN val IoU "
                  f"{figures.get('mediapipe_pfcn_val_person_iou', 0):.4f} in the same run")
        else:
            print("  no recorded figures (preset.json)")
    return 0


def _segment(args):
    from portrait_garden.inference import Predictor
    from portrait_garden.segment import check_output_dir, list_photos, read_photo, segment_photos

    background = read_photo(args.background, max_pixels=args.max_pixels) \
        if args.background else None
    if args.effect == "replace" and background is None:
        raise ValueError("--effect replace needs --background IMAGE.")
    model = _default_model(args.model)
    photos = list_photos(args.photos)
    check_output_dir(args.out)               # before loading the model or any inference
    predictor = Predictor(model)
    run = segment_photos(predictor, photos, args.out, args.effect, background,
                         skip_bad=args.skip_bad, max_pixels=args.max_pixels)
    for s in run.summaries:
        print(f"{s['photo']}: {s['result']}")
    for path, reason in run.failed:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"{run.summary_line()}; overlays, masks and JSON in {args.out}")
    return 1 if run.failed else 0


def _demo(args):
    """Segments scikit-image's public-domain astronaut photo with the default model."""
    from PIL import Image
    from skimage import data as skdata

    from portrait_garden.inference import Predictor
    from portrait_garden.segment import check_output_dir, segment_photos

    model = _default_model(args.model)
    check_output_dir(args.out)
    photo_path = os.path.join(args.out, "astronaut.png")
    Image.fromarray(skdata.astronaut()).save(photo_path)
    run = segment_photos(Predictor(model), [photo_path], args.out, effect="blur")
    print(f"{photo_path}: {run.summaries[0]['result']}")
    print(f"wrote {args.out}/astronaut_overlay.png, astronaut_person*.png, astronaut.json, "
          "astronaut_blur.png")
    return 0


def _dataset_counts(examples):
    persons = [ex.num_instances for ex in examples]
    return {
        "images": len(examples),
        "persons": int(sum(persons)),
        "images_without_person": int(sum(p == 0 for p in persons)),
        "images_with_2plus_persons": int(sum(p >= 2 for p in persons)),
        "images_with_ignore_regions": int(sum((ex.labels == 255).any() for ex in examples)),
    }


def _data_inspect(args):
    import numpy as np

    from portrait_garden import data

    path = data.resolve_dataset(args.dataset, args.data_dir)
    examples, report = data.read_examples(path, args.split, data.DEFAULT_MAX_SIDE,
                                          args.skip_bad)
    print(report)
    counts = _dataset_counts(examples)
    for key, value in counts.items():
        print(f"  {key:<28} {value}")
    if args.composites:
        cutouts = data.extract_cutouts(examples)
        examples = data.make_composites(cutouts, examples, args.count, seed=args.seed,
                                        row_fraction=args.composite_rows)
        comp = _dataset_counts(examples)
        print(f"composites: {len(cutouts)} cut-outs, {comp['images']} composites, "
              f"{comp['persons']} persons, {comp['images_with_2plus_persons']} with 2+ persons")
    store = data.ExampleStore.from_examples(examples, data.DEFAULT_MAX_SIDE, report.source)
    ds = data.build_dataset([store], (args.size, args.size), batch_size=args.count,
                            training=not args.no_augment, seed=args.seed,
                            targets=("boundary", "boxes"), drop_remainder=False)
    batch = {k: v.numpy() for k, v in next(iter(ds)).items()}
    samples = []
    for i in range(len(batch["image"])):
        sample = {k: v[i] for k, v in batch.items()}
        sample["title"] = f"{int(sample['num_instances'])} person(s)"
        samples.append(sample)
    from portrait_garden.data.visualize import save_grid

    mode = "letterboxed" if args.no_augment else "augmented"
    save_grid(samples, args.out, title=f"{report.source}: {len(samples)} {mode} samples "
              f"({args.size}x{args.size}); colour = person, white = boundary band")
    print(f"wrote {args.out} ({len(samples)} samples, mean person fraction "
          f"{float(np.mean(batch['mask'] > 0.5)):.2f})")
    return 0


def _train(args):
    from portrait_garden.configs import load_config
    from portrait_garden.segment import check_output_dir
    from portrait_garden.train import train

    config = load_config(args.recipe, args.set or ())
    check_output_dir(args.out)          # a file or an unwritable path: say so before any work
    train(config, args.out, data_dir=args.data_dir, resume=args.resume)
    return 0


CALIBRATION_SETS = ("mixed", "groups")
"""`export --calibration`: `mixed`, an equal share of pfcn, coco128 and ccp photos;
`groups`, people in groups only: half coco128 photos, half copy-paste composites of
coco128's persons (half of them rows). On the default preset `groups` kept more sports
players in int8 (`results/int8_calibration/findings.md`)."""


def _representative_photos(data_dir, count, seed=0, calibration="mixed"):
    """Up to `count` real photos (uint8 RGB) for int8 calibration.

    `mixed`: an equal share from each of the portrait and instance training sets found, so
    that group photos (coco128) calibrate the detector's ranges as much as portraits do.
    `groups`: see `CALIBRATION_SETS`."""
    import numpy as np

    from portrait_garden import data

    if calibration not in CALIBRATION_SETS:
        raise ValueError(f"Unknown calibration set {calibration!r}; choose one of "
                         f"{list(CALIBRATION_SETS)}.")
    rng = np.random.default_rng(seed)
    if calibration == "groups":
        try:
            path = data.resolve_dataset("coco128", data_dir)
        except data.DataError as e:
            raise data.DataError(f"--calibration groups needs coco128 ({e}). Pass --data-dir, "
                                 "or --calibration mixed.") from None
        examples, _ = data.read_examples(path, None, 512)
        real = [examples[i].image
                for i in rng.choice(len(examples), min(len(examples), count // 2), False)]
        composites = data.make_composites(data.extract_cutouts(examples), examples,
                                          count - len(real), seed=seed, row_fraction=0.5)
        return real + [np.asarray(ex.image, np.uint8) for ex in composites]
    sets = []
    for name in ("pfcn", "coco128", "ccp"):
        try:
            path = data.resolve_dataset(name, data_dir)
        except data.DataError:
            continue
        examples, _ = data.read_examples(path, "train" if name == "pfcn" else None, 512)
        sets.append([ex.image for ex in examples])
    if not sets:
        raise data.DataError(
            "No real photos found for int8 calibration (looked for pfcn, coco128, ccp under "
            f"{data_dir or data.default_data_dir()}). Pass --data-dir, or "
            "--quantizations float32 float16 dynamic to skip int8.")
    photos = []
    for k, images in enumerate(sets):
        share = min(len(images), (count - len(photos)) // (len(sets) - k))
        photos += [images[i] for i in rng.choice(len(images), share, replace=False)]
    return photos


def _export(args):
    from portrait_garden.export import export_model
    from portrait_garden.saving import load_portrait_model
    from portrait_garden.segment import check_output_dir

    check_output_dir(args.out)
    model = load_portrait_model(args.model)
    config, source = _recipe_serving(args.model)
    flags = {k: v for k, v in (("grouping", args.grouping),
                               ("score_threshold", args.score_threshold),
                               ("max_detections", args.max_detections),
                               ("refine_radius", args.refine_radius)) if v is not None}
    config = dataclasses.replace(config, **flags)
    print(f"serving settings: {source}" + (f", overridden by {flags}" if flags else ""))
    photos = None
    if "int8" in args.quantizations:
        photos = _representative_photos(args.data_dir, args.calibration_images,
                                        calibration=args.calibration)
    metadata = {"source_model": os.path.abspath(args.model)}
    if photos is not None:
        metadata["int8_calibration"] = {"set": args.calibration, "photos": len(photos)}
    paths = export_model(model, args.out, config, photos, tuple(args.quantizations),
                         metadata=metadata)
    for key, path in paths.items():
        size = "" if key == "saved_model" else f" ({os.path.getsize(path):,} bytes)"
        print(f"{key:<12} {path}{size}")
    return 0


def _choose_threshold(args):
    from portrait_garden.configs import load_config, save_config
    from portrait_garden.data import resolve_dataset
    from portrait_garden.evaluate.runner import choose_serving_threshold, write_json

    config_path = os.path.join(os.path.dirname(os.path.abspath(args.model)), "config.yaml")
    if args.write and not os.path.isfile(config_path):
        raise FileNotFoundError(f"--write updates the config.yaml beside the model, and "
                                f"{config_path} does not exist. Pass the .keras of a training "
                                "run (the trainer writes config.yaml beside it), or drop "
                                "--write and give the threshold to export --score-threshold.")
    dataset = resolve_dataset(args.dataset, args.data_dir)
    serving, source = _recipe_serving(args.model)
    print(f"other serving settings: {source}")
    result = choose_serving_threshold(args.model, dataset, args.split,
                                      max_detections=args.max_detections,
                                      grouping=args.grouping, serving=serving)
    result["model"] = args.model
    print(f"{result['dataset']}: {result['images']} photos, {result['persons']} persons; "
          f"{args.max_detections} slots, {args.grouping} grouping; a true positive is a "
          f"served mask at IoU >= {result['iou']}")
    print("| score threshold | precision | recall | F1 | mask AP | AP50 |")
    print("|---|---|---|---|---|---|")
    for r in result["rows"]:
        print(f"| {r['threshold']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} "
              f"| {r['f1']:.3f} | {r['mask_ap']:.3f} | {r['mask_ap50']:.3f} |")
    best = result["best_threshold"]
    print(f"best F1: score threshold {best:.2f}")
    if args.write:
        config = load_config(config_path)
        serving = dataclasses.replace(config.serving, score_threshold=best,
                                      priority_score=best,
                                      max_detections=args.max_detections,
                                      grouping=args.grouping)
        save_config(dataclasses.replace(config, serving=serving), config_path)
        print(f"wrote serving.score_threshold and serving.priority_score {best:.2f}, "
              f"serving.max_detections {args.max_detections} and serving.grouping "
              f"{args.grouping} to {config_path} (export reads them; evaluate's lower "
              "score floor keeps the priority)")
    else:
        print(f"export with: portrait-garden export --model {args.model} --score-threshold "
              f"{best:.2f} ... (or rerun with --write to store it in config.yaml)")
    if args.out:
        write_json(result, args.out)
        print(f"wrote {args.out}")
    return 0


def _recipe_serving(model_path):
    """The `serving:` section of the `config.yaml` the trainer wrote beside a model
    (shipped folders have one too), as `(ServingConfig, where it came from)`."""
    from portrait_garden.configs import ServingConfig, load_config

    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "config.yaml")
    if not os.path.isfile(path):
        return ServingConfig(), "defaults (no config.yaml beside the model)"
    return load_config(path).serving, f"serving: of {path}"


def _evaluate(args):
    from portrait_garden.data import resolve_dataset
    from portrait_garden.evaluate.runner import evaluate_dataset, write_json
    from portrait_garden.inference import Predictor

    model = _default_model(args.model)
    serving = None
    if model.endswith(".keras") or model.endswith(".h5"):
        # The model's own serving settings (its priority_score, grid, ...), with the
        # COCO-standard score floor and slots.
        config, source = _recipe_serving(model)
        serving = {**dataclasses.asdict(config), "score_threshold": args.score_floor,
                   "max_detections": args.max_detections}
        serving.pop("grouping")
        print(f"serving settings: {source}, score floor {args.score_floor}, "
              f"{args.max_detections} slots")
    predictor = Predictor(model, grouping=args.grouping, serving=serving)
    dataset = resolve_dataset(args.dataset, args.data_dir)
    result = evaluate_dataset(predictor, dataset, args.split, args.max_images,
                              boundary_tolerance=args.boundary_tolerance, viz_dir=args.viz,
                              viz_count=args.viz_count)
    result.update({"model": args.model, "grouping": args.grouping if predictor.kind == "keras"
                   else "as exported", "split": args.split,
                   "serving_config": predictor.serving_config})
    if "mask_ap" in result and serving is None:
        print("note: mask AP of an export counts only the detections above its serving "
              "threshold; evaluate the .keras model for COCO-standard AP (score floor "
              f"{args.score_floor}).")
    print(f"| dataset | images | person IoU | mean image IoU | 2-class mIoU | boundary F "
          f"({args.boundary_tolerance} px) | mask AP | AP50 | AP75 |")
    print("|---|---|---|---|---|---|---|---|---|")
    ap = [f"{result[k]:.3f}" if k in result else "-" for k in ("mask_ap", "mask_ap50",
                                                                "mask_ap75")]
    print(f"| {result['dataset']} | {result['images']} | {result['person_iou']:.4f} "
          f"| {result['mean_image_iou']:.4f} | {result['miou']:.4f} | {result['boundary_f']:.4f} "
          f"| {' | '.join(ap)} |")
    if "threshold_sweep" in result:
        sweep = result["threshold_sweep"]
        print("serving score threshold (choose it on a dev split with portrait-garden "
              "choose-threshold, not on the set you report): "
              + ", ".join(f"{r['threshold']:.2f} F1 {r['f1']:.3f}" for r in sweep["rows"])
              + f"; best {sweep['best_threshold']:.2f} (portrait-garden export "
              "--score-threshold)")
    if args.viz:
        print("overlays: " + ", ".join(result["viz"]))
    if args.out:
        write_json(result, args.out)
        print(f"wrote {args.out}")
    return 0


def _benchmark(args):
    from portrait_garden.data import read_examples, resolve_dataset
    from portrait_garden.evaluate import benchmark as bm

    if args.out:
        from portrait_garden.segment import check_output_dir

        check_output_dir(args.out)
    models = bm.models_from(args.model or [_default_model(None)])
    if not args.no_peer:
        models.insert(0, bm.TFLiteModel(bm.fetch_peer(), bm.PEER_NAME, kind="peer"))
    examples = []
    if args.dataset:
        examples, _ = read_examples(resolve_dataset(args.dataset, args.data_dir), args.split)
        examples = examples[:args.max_images] if args.max_images else examples
    photo_sizes = [bm.parse_photo_size(v) for v in args.photo_sizes or []]
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = bm.run_benchmark(models, examples, repeats=args.repeats)
    where = f"{args.dataset}/{args.split or 'all'}, {len(examples)} photos" if examples else \
        "no dataset (latency and size only)"
    print(f"\nperson IoU on {where}; latency at {bm.INPUT_SIZE}x{bm.INPUT_SIZE}, "
          f"{args.repeats} runs, ai-edge-litert, CPU: {bm.cpu_name()}\n")
    print(bm.markdown_table(rows))
    overhead = bm.pipeline_overhead(rows)
    for folder, precision, threads, network, pipeline in overhead:
        print(f"{folder} {precision}, {threads} thread(s): network {network:.2f} ms, whole "
              f"pipeline {pipeline:.2f} ms -> pre/post-processing + grouping add "
              f"{pipeline - network:.2f} ms")
    by_size = bm.photo_size_latency(models, photo_sizes, repeats=args.repeats)
    if by_size:
        print("\nwhole pipeline, 1 thread, by photo size (outputs are at photo resolution):")
        print("| model | photo | median ms | p90 ms |\n|---|---|---|---|")
        for r in by_size:
            print(f"| {r['name']} | {r['photo_size']} | {r['median_ms']:.2f} | {r['p90_ms']:.2f} |")
    if args.out:
        paths = bm.write_report(rows, args.out, meta={
            "photo_sizes": by_size,
            "dataset": args.dataset, "split": args.split, "photos": len(examples),
            "repeats": args.repeats, "input_size": bm.INPUT_SIZE, "cpu": bm.cpu_name(),
            "load_1min_before": load_before,
            "pipeline_overhead": [dict(zip(("export", "precision", "threads", "network_ms",
                                            "pipeline_ms"), o)) for o in overhead]})
        print("wrote " + ", ".join(paths.values()))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="portrait-garden",
        description="Portrait instance segmentation for phones (Zhu et al., ICME 2019).")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="print parameters, FLOPs and output shapes of a recipe's "
                                       "model")
    info.add_argument("--config", required=True, help="recipe YAML, e.g. "
                                                      "recipes/portrait_seg_mbv2_256.yaml")
    info.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE",
                      help="override a config value, e.g. --set model.width_multiplier=0.5")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(func=_info)

    train = sub.add_parser("train", help="train a recipe (checkpoint every epoch, --resume)")
    train.add_argument("--recipe", required=True, help="recipe YAML")
    train.add_argument("--out", required=True, help="run folder, e.g. runs/portrait_seg")
    train.add_argument("--data-dir", help="data root (default: $PORTRAIT_GARDEN_DATA or "
                                          "../shared/data)")
    train.add_argument("--set", action="extend", nargs="+", metavar="KEY=VALUE",
                       help="override config values, e.g. --set train.epochs=5 train.batch_size=8")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.set_defaults(func=_train)

    export = sub.add_parser("export", help="export the end-to-end instance model: SavedModel "
                                           "+ float32/float16/dynamic/int8 .tflite")
    export.add_argument("--model", required=True, help="trained instance model (.keras or "
                                                       "SavedModel), built with detector=True")
    export.add_argument("--out", required=True, help="output folder")
    export.add_argument("--grouping", choices=["affinity", "box"],
                        help="overrides the recipe's serving.grouping (default affinity)")
    export.add_argument("--score-threshold", type=float,
                        help="overrides the recipe's serving.score_threshold (default 0.15; "
                             "choose it on a dev split: portrait-garden choose-threshold)")
    export.add_argument("--max-detections", type=int,
                        help="overrides the recipe's serving.max_detections (box slots)")
    export.add_argument("--refine-radius", type=int,
                        help="overrides the recipe's serving.refine_radius: edge-aware "
                             "upsampling of the person mask (0: bilinear; the shipped "
                             "presets use 1)")
    export.add_argument("--quantizations", nargs="+", default=["float32", "float16", "dynamic",
                                                               "int8"])
    export.add_argument("--data-dir", help="data root for int8 calibration photos")
    export.add_argument("--calibration-images", type=int, default=100)
    export.add_argument("--calibration", choices=CALIBRATION_SETS, default="mixed",
                        help="int8 calibration photos: mixed (pfcn, coco128, ccp in equal "
                             "shares) or groups (coco128 photos and composites of its "
                             "persons; the default preset's int8 file uses it)")
    export.set_defaults(func=_export)

    evaluate = sub.add_parser("evaluate", help="person IoU and instance mask AP of a model")
    evaluate.add_argument("--model", required=True, help="preset name, .keras instance "
                                                         "network, export folder / SavedModel, "
                                                         "or .tflite")
    evaluate.add_argument("--dataset", required=True, help="folder or set name (e.g. pfcn)")
    evaluate.add_argument("--split", help="split of a folder set, e.g. val")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--grouping", choices=["affinity", "box"], default="affinity",
                          help="grouping mode (for .keras models)")
    evaluate.add_argument("--max-images", type=int)
    evaluate.add_argument("--score-floor", type=float, default=0.05,
                          help=".keras models: lowest detection score kept, so mask AP "
                               "sees the whole precision-recall curve (COCO-standard); the "
                               "serving threshold is a separate export setting")
    evaluate.add_argument("--max-detections", type=int, default=16,
                          help=".keras models: detection slots per photo")
    evaluate.add_argument("--out", help="write the figures as JSON")
    evaluate.add_argument("--viz", metavar="DIR", help="write best.png / worst.png overlays "
                          "(instances, boxes, superpixel edges, ground truth)")
    evaluate.add_argument("--viz-count", type=int, default=6, help="images per overlay grid")
    evaluate.add_argument("--boundary-tolerance", type=int, default=3,
                          help="pixel tolerance of the boundary F-score (default 3)")
    evaluate.set_defaults(func=_evaluate)

    choose = sub.add_parser("choose-threshold", help="choose the serving score threshold "
                                                     "on a dev split (best detection F1)")
    choose.add_argument("--model", required=True, help=".keras instance network")
    choose.add_argument("--dataset", required=True, help="COCO person set, e.g. pfg_sports")
    choose.add_argument("--split", default="dev", help="its dev split (default dev); never "
                                                       "the split you report")
    choose.add_argument("--data-dir")
    choose.add_argument("--max-detections", type=int, default=16, help="box slots "
                                                                       "(default 16)")
    choose.add_argument("--grouping", choices=["affinity", "box"], default="affinity")
    choose.add_argument("--write", action="store_true",
                        help="store the threshold, slots and grouping in the config.yaml "
                             "beside the model (its serving: section, which export reads)")
    choose.add_argument("--out", help="write the sweep as JSON")
    choose.set_defaults(func=_choose_threshold)

    bench = sub.add_parser("benchmark", help="size, latency (1 and 2 threads) and accuracy "
                           "of .tflite files beside MediaPipe's selfie segmenter")
    bench.add_argument("--model", nargs="+", help="export folders and/or .tflite files "
                       "(default: the shipped model)")
    bench.add_argument("--dataset", help="folder or set name scored for person IoU, e.g. pfcn")
    bench.add_argument("--split", help="split of a folder set, e.g. val")
    bench.add_argument("--data-dir")
    bench.add_argument("--max-images", type=int, help="score only the first N photos")
    bench.add_argument("--repeats", type=int, default=50, help="timed runs per model")
    bench.add_argument("--photo-sizes", nargs="+", metavar="HxW",
                       help="also time the whole pipeline (1 thread) on photos of these sizes, "
                       "e.g. 480x640 1080x1920")
    bench.add_argument("--no-peer", action="store_true",
                       help="skip MediaPipe's selfie segmenter (no download)")
    bench.add_argument("--out", metavar="DIR", help="write benchmark.md/.json/.png here")
    bench.set_defaults(func=_benchmark)

    data_cmd = sub.add_parser("data", help="look at datasets")
    data_sub = data_cmd.add_subparsers(dest="data_command", required=True)
    inspect = data_sub.add_parser(
        "inspect", help="print per-set counts and render a grid of augmented samples")
    inspect.add_argument("--dataset", required=True,
                         help="dataset folder, or a set name under --data-dir (e.g. pfcn)")
    inspect.add_argument("--data-dir", help="data root (default: $PORTRAIT_GARDEN_DATA or "
                                            "../shared/data)")
    inspect.add_argument("--split", help="split file of a folder set, e.g. val")
    inspect.add_argument("--out", default="grid.png", help="output PNG (default grid.png)")
    inspect.add_argument("--count", type=int, default=16, help="samples in the grid")
    inspect.add_argument("--size", type=int, default=256, help="sample size in pixels")
    inspect.add_argument("--seed", type=int, default=0)
    inspect.add_argument("--composites", action="store_true",
                         help="show multi-person composites made from this set")
    inspect.add_argument("--composite-rows", type=float, default=0.0, metavar="FRACTION",
                         help="with --composites: share laid out as rows of people side by "
                              "side (data.composite_rows); default 0")
    inspect.add_argument("--no-augment", action="store_true", help="letterbox only")
    inspect.add_argument("--skip-bad", action="store_true",
                         help="skip and report unreadable files instead of failing")
    inspect.set_defaults(func=_data_inspect)

    segment = sub.add_parser("segment", help="one mask per person for a photo or a folder")
    segment.add_argument("photos", help="a photo or a folder of photos")
    segment.add_argument("--out", required=True, help="output folder")
    segment.add_argument("--model", help="preset name, export folder, SavedModel, .tflite "
                                         "or .keras (default: the default preset)")
    segment.add_argument("--effect", choices=["none", "blur", "replace"], default="none")
    segment.add_argument("--background", help="background image for --effect replace")
    segment.add_argument("--skip-bad", action="store_true",
                         help="continue past unreadable photos, list them at the end "
                              "(exit code 1 if any)")
    segment.add_argument("--max-pixels", type=int, metavar="N",
                         help="largest photo (width x height) decoded; default about 89.5 "
                              "million, PIL's guard against decompression bombs")
    segment.set_defaults(func=_segment)

    presets = sub.add_parser("presets", help="the shipped models: size, IoU, latency")
    presets.add_argument("--json", action="store_true", help="print JSON instead of text")
    presets.set_defaults(func=_presets)

    demo = sub.add_parser("demo", help="segment the sample photo with the shipped default model")
    demo.add_argument("--model", help="preset name or model folder (default: the default preset)")
    demo.add_argument("--out", default="demo_output", help="output folder")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Entry point of the `portrait-garden` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    from portrait_garden.configs import ConfigError
    from portrait_garden.data import DataError
    from portrait_garden.evaluate.benchmark import PeerUnavailable

    try:
        return args.func(args)
    except (ConfigError, DataError, FileNotFoundError, ValueError, PeerUnavailable) as e:
        print(f"portrait-garden {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
