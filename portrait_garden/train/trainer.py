"""Trainer: config -> data -> model -> `model.fit` with checkpoints, logs and resume."""

import json
import os
import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf
import tf_keras as keras

from portrait_garden.configs.loader import save_config
from portrait_garden.data.augment import augment_preset
from portrait_garden.data.composite import extract_cutouts, make_composites
from portrait_garden.data.pipeline import (
    build_dataset,
    keras_pairs,
    load_store,
    load_unlabelled_store,
    resolve_dataset,
)
from portrait_garden.data.readers import Example
from portrait_garden.data.store import ExampleStore
from portrait_garden.evaluate.metrics import PersonIoU
from portrait_garden.layers import namespace
from portrait_garden.losses.segmentation import build_losses
from portrait_garden.models.builder import build_segmenter
from portrait_garden.optimize.pruning import (
    prune_model,
    pruning_callbacks,
    sparsity,
    strip_pruning,
)
from portrait_garden.optimize.qat import SCHEMES, quantize_model
from portrait_garden.train.distill import distillation_model, load_teacher, teacher_cost
from portrait_garden.train.distribution import is_chief, make_strategy

BEST_MODEL = "best.keras"
LAST_MODEL = "last.keras"
PRUNED_MODEL = "pruned_stripped.keras"
BACKUP_DIR = "backup"


def checkpoint_names(config):
    """(best, last) checkpoint file names of a run: `.h5` for QAT runs (tfmot's QAT
    models do not reload from `.keras`), `.keras` otherwise."""
    if config.optimize.quantize:
        return "best.h5", "last.h5"
    return BEST_MODEL, LAST_MODEL


def prune_end_step(config):
    """Step at which a pruning run reaches its target sparsity."""
    total = config.train.epochs * config.train.steps_per_epoch
    return config.optimize.prune_end_step or max(int(0.6 * total), 1)


def apply_optimization(model, config):
    """Wraps a (float, initialized) model for the recipe's tfmot stage, if any.

    Pruning and QAT in one run are not supported: prune first, then run a QAT
    recipe with `init_from` the pruned run's `pruned_stripped.keras` and
    `optimize.quantize_scheme: prune_preserve`.
    """
    check_optimize(config)
    opt = config.optimize
    if opt.prune_sparsity:
        return prune_model(model, opt.prune_sparsity, opt.prune_begin_step,
                           prune_end_step(config), opt.prune_frequency)
    if opt.quantize:
        return quantize_model(model, opt.quantize_scheme)
    return model


RESUME_MAY_CHANGE = {"train.epochs", "data.skip_bad"}
"""Keys `--resume` accepts changed: more epochs extend a run; the rest must match."""


def check_resume_config(config, saved_path):
    """Refuses `--resume` with a config other than the run's, before anything is written.

    Raises:
      ValueError: listing the keys that differ and what to do.
    """
    from portrait_garden.configs.loader import config_to_dict, load_config

    if not os.path.exists(saved_path):
        return
    saved = config_to_dict(load_config(saved_path))
    wanted = config_to_dict(config)
    diffs = [f"{section}.{key}: {saved[section].get(key)!r} -> {value!r}"
             for section, values in wanted.items() for key, value in values.items()
             if saved.get(section, {}).get(key) != value
             and f"{section}.{key}" not in RESUME_MAY_CHANGE]
    if diffs:
        raise ValueError(f"--resume asks for a different config than the run's "
                         f"{saved_path}: {'; '.join(diffs[:6])}. Resume with the same recipe "
                         "and --set values, or start a new --out folder.")


def check_optimize(config):
    """Raises ValueError for an `optimize` section the trainer cannot run."""
    opt = config.optimize
    if opt.quantize and opt.prune_sparsity:
        raise ValueError("optimize.quantize and optimize.prune_sparsity are both set: prune in "
                         "one run, then QAT from its pruned_stripped.keras with "
                         "optimize.quantize_scheme=prune_preserve.")
    if not 0.0 <= opt.prune_sparsity < 1.0:
        raise ValueError(f"optimize.prune_sparsity must be in [0, 1), got {opt.prune_sparsity}.")
    if opt.quantize_scheme not in SCHEMES:
        raise ValueError(f"optimize.quantize_scheme must be one of {list(SCHEMES)}, got "
                         f"{opt.quantize_scheme!r}.")


def atomic_save(model, path):
    """Saves a model to `path` through a temporary file and an atomic rename, so a kill
    at any moment leaves the previous good copy (or none), never a partial file."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")   # keeps the extension
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


class AtomicCheckpoint(keras.callbacks.Callback):
    """Saves the model at each epoch end, atomically (`atomic_save`).

    With `monitor`, saves only when the monitored value beats the best so far
    (`mode="max"`), epochs before `first_epoch` (1-based) ignored, so a pruning run's
    best model is one at its target sparsity. The best so far is read back from the
    run's `metrics.json` (`history_path`), so a resumed run never overwrites a better
    model with a worse one.
    """

    def __init__(self, path, monitor=None, first_epoch=1, history_path=None, best_path=None,
                 model=None):
        super().__init__()
        self.path, self.monitor, self.first_epoch = path, monitor, first_epoch
        self.saved = model                      # what to save; default the trained model
        self.history_path = history_path
        self.best_path = best_path or path      # whose existence means "a best was saved"
        self.best = None

    def on_train_begin(self, logs=None):
        if self.monitor and self.history_path and os.path.exists(self.history_path) \
                and os.path.exists(self.best_path):
            values = [h[self.monitor] for h in read_history(self.history_path)
                      if h["epoch"] >= self.first_epoch and self.monitor in h]
            self.best = max(values) if values else None

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor is None:
            atomic_save(self.saved or self.model, self.path)
            return
        value = (logs or {}).get(self.monitor)
        if epoch + 1 < self.first_epoch or value is None:
            return
        if self.best is None or value > self.best:
            self.best = float(value)
            atomic_save(self.saved or self.model, self.path)


def monitor_name(model):
    """Keras' name of the validation person IoU: no prefix for one output, else the
    name of the `mask` output's layer (`mask`, or `quant_mask` in a QAT model)."""
    if len(model.output_names) == 1:
        return "val_person_iou"
    # Keras orders a dict's outputs by sorted key; output_names follow that order.
    mask_layer = model.output_names[sorted(model.output.keys()).index("mask")]
    return f"val_{mask_layer}_person_iou"


class RunExistsError(ValueError):
    """The output folder already holds a run and `resume` was not asked for."""


def learning_rate_schedule(train):
    """Adam learning rate of a `TrainConfig`: warm-up + cosine decay, or constant."""
    total = train.epochs * train.steps_per_epoch
    if train.schedule == "constant":
        return train.learning_rate
    if train.schedule == "cosine":
        warmup = min(train.warmup_steps, max(total - 1, 0))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=train.learning_rate * 0.01 if warmup else train.learning_rate,
            decay_steps=max(total - warmup, 1), alpha=0.01,
            warmup_target=train.learning_rate if warmup else None, warmup_steps=warmup)
    raise ValueError(f"train.schedule must be 'cosine' or 'constant', got {train.schedule!r}.")


def load_stores(datasets, data_dir, max_side, skip_bad, log=print, unlabelled=False):
    """Reads and packs every dataset of a list of `DatasetConfig`s (`unlabelled`: photo
    folders without labels, `load_unlabelled_store`)."""
    stores, weights = [], []
    for spec in datasets:
        path = resolve_dataset(spec.path, data_dir)
        if unlabelled:
            store, report = load_unlabelled_store(path, max_side, skip_bad)
        else:
            store, report = load_store(path, spec.split or None, max_side, skip_bad)
        log(str(report))
        stores.append(store)
        weights.append(spec.weight)
    return stores, weights


def composite_store(stores, count, max_side, seed=0, row_fraction=0.0):
    """A store of `count` multi-person composites made from the stores' persons and images
    (`row_fraction` of them rows of people side by side)."""
    examples = [Example(store.ids[i], *store.example(i), store.source)
                for store in stores for i in range(len(store))]
    cutouts = extract_cutouts(examples)
    composites = make_composites(cutouts, examples, count, seed=seed, row_fraction=row_fraction)
    return ExampleStore.from_examples(composites, max_side, "composites")


def read_history(path):
    """The epoch rows of a run's `metrics.json` (empty list if absent)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write_atomic(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class JsonMetricLog(keras.callbacks.Callback):
    """Writes each epoch's metrics (and wall time) to `metrics.json` and `metrics.csv`,
    both rewritten atomically from the full history: a kill never leaves a partial row,
    and an epoch that is re-run after a resume replaces its row."""

    def __init__(self, path, csv_path=None):
        super().__init__()
        self.path, self.csv_path = path, csv_path
        self.start = time.time()

    def on_train_begin(self, logs=None):
        history = read_history(self.path)
        # Continue the wall clock of a resumed run.
        self.start = time.time() - (history[-1]["seconds"] if history else 0.0)

    def on_epoch_end(self, epoch, logs=None):
        history = [h for h in read_history(self.path) if h["epoch"] < epoch + 1]
        entry = {"epoch": epoch + 1, "seconds": round(time.time() - self.start, 1)}
        entry.update({k: float(v) for k, v in (logs or {}).items()})
        history.append(entry)
        _write_atomic(self.path, json.dumps(history, indent=1))
        if self.csv_path:
            keys = list(dict.fromkeys(k for h in history for k in h))
            rows = [",".join(keys)] + [",".join(str(h.get(k, "")) for k in keys)
                                       for h in history]
            _write_atomic(self.csv_path, "\n".join(rows) + "\n")


def init_from_saved(model, path, log=print, slice_wider=False):
    """Copies weights from a saved model into `model`, layer by layer, where the layer
    names and weight shapes match. With `slice_wider`, a layer whose saved weights are
    at least as large in every dimension gets their leading slice instead (weight
    selection: the first output/input channels of every kernel, bias and batch-norm
    vector, so residual additions keep aligned channels). Returns the number of layers
    copied."""
    from portrait_garden.saving import load_model

    source = {layer.name: layer for layer in load_model(path).layers}
    copied = sliced = 0
    for layer in model.layers:
        other = source.get(layer.name)
        if other is None or not layer.weights:
            continue
        weights = other.get_weights()
        shapes = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in weights] == shapes:
            layer.set_weights(weights)
            copied += 1
        elif slice_wider and len(weights) == len(shapes) and all(
                w.ndim == len(s) and all(a >= b for a, b in zip(w.shape, s))
                for w, s in zip(weights, shapes)):
            layer.set_weights([w[tuple(slice(0, n) for n in s)]
                               for w, s in zip(weights, shapes)])
            sliced += 1
    total = sum(1 for layer in model.layers if layer.weights)
    log(f"init_from {path}: copied {copied} of {total} layers with weights"
        + (f", sliced {sliced} wider ones" if slice_wider else ""))
    if copied + sliced == 0:
        raise ValueError(f"init_from {path}: no layer matches this model by name and shape.")
    return copied + sliced


def shard_by_data(dataset):
    """Multi-worker runs split each global batch between the workers (the packed
    stores are in memory, so there are no files to shard by)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = \
        tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def fill_every_replica(dataset, replicas):
    """Pads each batch to a multiple of `replicas` by repeating its own examples.

    A distribution strategy splits the last, partial validation batch between the
    replicas, and one can get no example at all (a validation set of 1 photo on 2
    replicas). On TensorFlow 2.21 with oneDNN (the default on x86), a convolution over an
    empty batch returns its input unchanged, so the next layer fails on the shape and
    the run stops (a multi-worker run loses its worker's heartbeat). Repeating examples
    avoids empty replicas; it counts at most `replicas - 1` examples of the last batch
    twice in the validation figures. Batches whose size divides by `replicas` (every
    full batch) are unchanged.
    """
    if replicas <= 1:
        return dataset

    def pad(*batch):
        size = tf.shape(tf.nest.flatten(batch)[0])[0]
        index = tf.range((size + replicas - 1) // replicas * replicas) % size
        padded = tf.nest.map_structure(lambda t: tf.gather(t, index), batch)
        return padded if len(batch) > 1 else padded[0]

    return dataset.map(pad)


def freeze_all_but(model, prefixes, log=print):
    """Freezes every layer whose name starts with none of `prefixes`.

    Frozen layers keep their weights, and their batch norm runs in inference mode
    (Keras 2). Returns the names of the layers left trainable.

    Raises:
      ValueError: a prefix matches no layer with weights (a typo would otherwise
        freeze the whole model and train nothing).
    """
    prefixes = tuple(prefixes)
    weighted = [layer for layer in model.layers if layer.weights]
    unmatched = [p for p in prefixes if not any(layer.name.startswith(p) for layer in weighted)]
    if unmatched:
        raise ValueError(
            f"train.trainable: no layer with weights starts with {unmatched}. Layer names "
            f"start with e.g. {sorted({layer.name.split('_')[0] for layer in weighted})}; "
            "fix the prefixes or set train.trainable: [] to train every layer.")
    kept = []
    for layer in model.layers:
        layer.trainable = layer.name.startswith(prefixes)
        if layer.trainable and layer.weights:
            kept.append(layer.name)
    count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    log(f"train.trainable: training {len(kept)} layers ({count:,} weights); "
        "every other layer is frozen")
    return kept


def compile_segmenter(model, config):
    """Compiles a segmenter with the recipe's losses, Adam and the person-IoU metric."""
    loss = config.loss
    losses, weights = build_losses(model.output.keys(), loss.ce_weight, loss.dice_weight,
                                   loss.side_weight, loss.boundary_weight, loss.boundary_width,
                                   loss.heatmap_weight, loss.size_weight)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate_schedule(config.train)),
                  loss=losses, loss_weights=weights, metrics={"mask": [PersonIoU()]})
    return model


def build_training_state(model, images, targets):
    """Creates the optimizer slots and the loss and metric variables of a compiled model
    from one batch, before `fit`: the first train step then creates none, and its
    tf.function is traced once instead of twice (a tf.function that creates variables
    on its first call is traced again; half a minute for a tiny model here)."""
    model.optimizer.build(model.trainable_variables)
    outputs = model(images, training=False)
    if isinstance(outputs, dict):   # outputs without a target (`features`) get None, as in fit
        targets = {name: targets.get(name) for name in outputs}
    model.compiled_loss.build(outputs)
    model.compiled_metrics.build(outputs, targets)


def train(config, out_dir, data_dir=None, resume=False, verbose=None, model=None, log=print):
    """Trains a recipe's model; every epoch is checkpointed so a killed run resumes.

    Writes to `out_dir`: `config.yaml` (resolved config), `backup/` (weights,
    optimizer and epoch, for `resume`), `last.keras`, `best.keras` (best
    validation person IoU), `metrics.csv`, `metrics.json`, `tensorboard/`.
    QAT runs (`optimize.quantize`) write `best.h5` / `last.h5` instead; pruning
    runs also write `pruned_stripped.keras` (best checkpoint at the target
    sparsity, wrappers removed) at the end.

    Args:
      config: `ExperimentConfig` with `data.train` (and ideally `data.val`).
      out_dir: str, run folder.
      data_dir: str, root for dataset names (default `$PORTRAIT_GARDEN_DATA`
        or `../shared/data`).
      resume: bool, continue the run in `out_dir` from its last epoch.
      verbose: Keras verbosity; default: progress bar on a terminal, one line
        per epoch otherwise.
      model: optional prebuilt float model; default `build_segmenter(config)`.
        `train.init_from` and then `optimize` are applied to it.
      log: callable for messages. Defaults to `print`.

    Returns:
      The `keras.callbacks.History`.

    Raises:
      RunExistsError: `out_dir` has a run and `resume` is False.
      ValueError: no training data in the config.
    """
    check_optimize(config)
    # First: a multi-worker strategy must exist before any other TensorFlow op runs,
    # and a missing TF_CONFIG / TPU / bad global batch must fail before any work.
    strategy = make_strategy(config.train.distribution, config.train.batch_size)
    replicas = strategy.num_replicas_in_sync
    chief = is_chief(strategy)
    if model is not None and config.train.distribution != "default":
        raise ValueError("train(model=...) builds outside the distribution strategy; leave "
                         "model unset with train.distribution other than default.")
    if config.train.init_from and not os.path.exists(config.train.init_from) and \
            not os.path.exists(os.path.join(out_dir, BACKUP_DIR)):
        raise FileNotFoundError(
            f"train.init_from names {config.train.init_from}, which does not exist. Train "
            "the stage it comes from first (the recipe header says which), or pass "
            "--set train.init_from=<a .keras file>.")
    if not config.data.train:
        raise ValueError("The recipe has no data.train datasets; add at least one, e.g. "
                         "data: {train: [{path: pfcn, split: train}]}.")
    backup = os.path.join(out_dir, BACKUP_DIR)
    if os.path.exists(backup) and not resume:
        raise RunExistsError(f"{out_dir} already holds a run (found {backup}). Pass --resume "
                             "to continue it, or choose a new --out folder.")
    metrics_path = os.path.join(out_dir, "metrics.json")
    if resume and os.path.exists(backup):
        check_resume_config(config, os.path.join(out_dir, "config.yaml"))
        done = read_history(metrics_path)
        epoch = done[-1]["epoch"] if done else 0
        log(f"Resuming {out_dir} after epoch {epoch} of {config.train.epochs} (step "
            f"{epoch * config.train.steps_per_epoch}); an epoch interrupted after its "
            "metrics were written is trained again and its row replaced.")
    elif resume:
        log(f"No checkpoint in {backup}: starting a new run.")
    os.makedirs(out_dir, exist_ok=True)
    if chief:
        save_config(config, os.path.join(out_dir, "config.yaml"))
    keras.utils.set_random_seed(config.train.seed)
    log(f"distribution {config.train.distribution}: {replicas} replica(s), global batch "
        f"{config.train.batch_size}, per-replica batch {config.train.batch_size // replicas}"
        + ("" if chief else " (not the chief: run files are written by the chief)"))

    data = config.data
    size = tuple(config.model.image_size)
    train_stores, weights = load_stores(data.train, data_dir, data.max_side, data.skip_bad, log)
    subject_only = [spec.main_subject_only for spec in data.train]
    if any(subject_only):
        log("main_subject_only: the heatmap loss skips negatives outside the labelled boxes "
            f"of {[spec.path for spec in data.train if spec.main_subject_only]}")
    if data.composites:
        train_stores.append(composite_store(train_stores, data.composites, data.max_side,
                                            config.train.seed, data.composite_rows))
        weights.append(data.composite_weight)
        log(f"composites: {data.composites} multi-person images"
            + (f" ({data.composite_rows:.0%} rows of people side by side)"
               if data.composite_rows else ""))
    if data.unlabelled:
        stores, store_weights = load_stores(data.unlabelled, data_dir, data.max_side,
                                            data.skip_bad, log, unlabelled=True)
        train_stores += stores
        weights += store_weights
    augment = augment_preset(data.augment_preset if data.augment else "none")
    # Model, optimizer, metrics and the tfmot wrappers are created in the strategy's
    # scope; with several replicas batch norm normalizes over the global batch.
    with strategy.scope(), namespace.synchronized_batch_norm(replicas > 1):
        model = model if model is not None else build_segmenter(config)
        if config.train.init_from and not os.path.exists(backup):
            init_from_saved(model, config.train.init_from, log,
                            slice_wider=config.train.init_slice)
        elif (config.optimize.quantize or config.optimize.prune_sparsity) and \
                not config.train.init_from:
            log("warning: optimize stage without train.init_from: QAT/pruning from random "
                "weights; set train.init_from to the float run's best checkpoint.")
        if config.train.freeze_batchnorm:
            for layer in model.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False     # Keras 2: also runs it in inference mode
        if config.train.trainable:
            freeze_all_but(model, config.train.trainable, log)
        model = apply_optimization(model, config)
        trained = model
        if config.distill.teacher:
            distill = config.distill
            teacher = load_teacher(distill.teacher, model, distill.heatmap_weight, log)
            log(f"distill: the teacher's forward pass costs "
                f"{teacher_cost(teacher, config.train.batch_size, size):.2f} s per batch of "
                f"{config.train.batch_size} (added to every training and validation step)")
            trained = distillation_model(model, teacher, distill.mask_weight,
                                         distill.heatmap_weight, distill.temperature)
        compile_segmenter(trained, config)
    targets = ("mask", "centernet") if config.model.detector else ("mask",)
    train_ds = shard_by_data(keras_pairs(
        build_dataset(train_stores, size, config.train.batch_size, True, weights,
                      config.train.seed, augment, targets,
                      main_subject_only=subject_only + [False] * (len(train_stores) -
                                                                  len(subject_only))),
        model.output.keys()))
    val_ds = None
    if data.val:
        val_stores, _ = load_stores(data.val, data_dir, data.max_side, data.skip_bad, log)
        val_ds = shard_by_data(fill_every_replica(keras_pairs(
            build_dataset(val_stores, size, config.train.batch_size, False, targets=targets),
            model.output.keys()), replicas))

    with strategy.scope():   # from zeros: reading a batch would move the data's shuffle
        build_training_state(trained, *tf.nest.map_structure(
            lambda spec: tf.zeros([1, *spec.shape[1:]], spec.dtype), train_ds.element_spec))

    best_name, last_name = checkpoint_names(config)
    first_best_epoch = 1
    callbacks = []
    if config.optimize.prune_sparsity:
        callbacks.extend(pruning_callbacks())     # every worker: they update the masks
        # The mask update at the end step lands in the next epoch's first batch.
        first_best_epoch = prune_end_step(config) // config.train.steps_per_epoch + 1
    # Order matters for a kill between them: metrics, then models, then the backup the
    # resume starts from. A kill before the backup re-runs the epoch (its row replaced).
    # Only the chief writes the run's files. Saving reads metric variables, which under
    # a multi-worker strategy is a collective every worker must join, so the others
    # save the same checkpoints into a scratch folder (same decisions: `best` reads the
    # chief's metrics.json and checkpoint), removed at the end.
    scratch = None if chief else tempfile.mkdtemp(prefix="worker-", dir=out_dir)
    save_dir = out_dir if chief else scratch
    if chief:
        callbacks.append(JsonMetricLog(metrics_path, os.path.join(out_dir, "metrics.csv")))
    # The checkpoints hold the model of the recipe (the student), never the teacher.
    callbacks.append(AtomicCheckpoint(os.path.join(save_dir, last_name), model=model))
    if val_ds is not None:
        callbacks.append(AtomicCheckpoint(
            os.path.join(save_dir, best_name), monitor=monitor_name(model),
            first_epoch=first_best_epoch, history_path=metrics_path,
            best_path=os.path.join(out_dir, best_name), model=model))
    if chief:
        callbacks.append(keras.callbacks.TensorBoard(
            os.path.join(out_dir, "tensorboard"), write_graph=False, profile_batch=0))
    callbacks.append(
        keras.callbacks.BackupAndRestore(backup, save_freq="epoch", delete_checkpoint=False))
    if verbose is None:
        verbose = 1 if os.isatty(1) else 2
    try:
        history = trained.fit(train_ds, epochs=config.train.epochs,
                              steps_per_epoch=config.train.steps_per_epoch,
                              validation_data=val_ds, callbacks=callbacks, verbose=verbose)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if config.optimize.prune_sparsity and chief:
        write_stripped(out_dir, best_name if val_ds is not None else last_name,
                       config.optimize.prune_sparsity, log)
    return history


def write_stripped(out_dir, checkpoint, target=0.0, log=print):
    """Strips the pruning wrappers of a run's checkpoint into `PRUNED_MODEL`."""
    from portrait_garden.saving import load_model

    path = os.path.join(out_dir, checkpoint)
    if not os.path.exists(path):
        path = os.path.join(out_dir, LAST_MODEL)
    stripped = strip_pruning(load_model(path))
    stripped.save(os.path.join(out_dir, PRUNED_MODEL))
    log(f"{PRUNED_MODEL}: from {os.path.basename(path)}, sparsity of the pruned kernels "
        f"{sparsity(stripped):.3f}")
    if target and sparsity(stripped) < target - 0.01:
        log(f"warning: sparsity {sparsity(stripped):.3f} is below the target {target}: the run "
            "ended before optimize.prune_end_step (or between mask updates).")
    return stripped
