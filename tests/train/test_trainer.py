import json
import os
import shutil

import numpy as np
import pytest

import portrait_garden as pg
from portrait_garden.configs import load_config
from portrait_garden.train import RunExistsError, learning_rate_schedule, train
from tests.conftest import RECIPES_DIR
from tests.data.conftest import write_portrait_folder

TINY_OVERRIDES = [
    "model.image_size=[64, 64]", "model.width_multiplier=0.35", "model.decoder_filters=8",
    "train.batch_size=2", "train.steps_per_epoch=2", "train.warmup_steps=1",
]


def _tiny_config(tmp_path, epochs=2, recipe="portrait_seg_mbv2_256.yaml", extra=()):
    folder = tmp_path / "set"
    if not folder.exists():
        write_portrait_folder(folder, n=4, size=(48, 64))
    overrides = TINY_OVERRIDES + [
        f"data.train=[{{path: {folder}, split: train}}]",
        f"data.val=[{{path: {folder}, split: val}}]",
        f"train.epochs={epochs}", *extra]
    return load_config(os.path.join(RECIPES_DIR, recipe), overrides)


def _epochs_logged(out):
    with open(os.path.join(out, "metrics.json")) as f:
        return [entry["epoch"] for entry in json.load(f)]


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory):
    """One tiny 2-epoch segmentation run, shared: the tests that read a finished run or
    start from its checkpoint (init_from, resume) do not each train their own."""
    tmp_path = tmp_path_factory.mktemp("seg")
    out = str(tmp_path / "run")
    history = train(_tiny_config(tmp_path), out, verbose=0, log=lambda *_: None)
    return tmp_path, out, history


def _copy_run(seg_run, tmp_path):
    """A private copy of the shared run, for tests that write into it."""
    out = str(tmp_path / "run")
    shutil.copytree(seg_run[1], out)
    return out


def test_train_writes_checkpoints_logs_and_config(seg_run):
    tmp_path, out, history = seg_run
    assert len(history.history["loss"]) == 2
    for name in ("config.yaml", "best.keras", "last.keras", "metrics.csv", "metrics.json",
                 "backup"):
        assert os.path.exists(os.path.join(out, name)), name
    assert _epochs_logged(out) == [1, 2]
    assert "val_mask_person_iou" in history.history
    assert load_config(os.path.join(out, "config.yaml")) == _tiny_config(tmp_path)
    assert isinstance(pg.load_model(os.path.join(out, "best.keras")), pg.PortraitSegmenter)


@pytest.mark.slow
def test_resume_continues_at_the_saved_epoch(seg_run, tmp_path):
    out = _copy_run(seg_run, tmp_path)
    with pytest.raises(RunExistsError, match="--resume"):
        train(_tiny_config(seg_run[0], epochs=3), out, verbose=0, log=lambda *_: None)
    history = train(_tiny_config(seg_run[0], epochs=3), out, resume=True, verbose=0,
                    log=lambda *_: None)
    assert len(history.history["loss"]) == 1        # only epoch 3 ran
    assert _epochs_logged(out) == [1, 2, 3]
    model = pg.load_model(os.path.join(out, "last.keras"), compile=True)
    assert int(model.optimizer.iterations) == 3 * 2  # optimizer state carried over


def test_best_checkpoint_for_a_single_output_model(tmp_path):
    out = str(tmp_path / "plain")
    config = _tiny_config(tmp_path, epochs=1, recipe="ablation_plain_mbv2_050_224.yaml")
    history = train(config, out, verbose=0, log=lambda *_: None)
    assert "val_person_iou" in history.history
    assert os.path.exists(os.path.join(out, "best.keras"))


def test_no_training_data_is_a_clear_error(tmp_path):
    config = load_config(None, TINY_OVERRIDES)
    with pytest.raises(ValueError, match="no data.train"):
        train(config, str(tmp_path / "run"), verbose=0)


def test_learning_rate_schedules():
    config = load_config(None, ["train.epochs=2", "train.steps_per_epoch=10",
                                "train.warmup_steps=5", "train.learning_rate=0.01"])
    schedule = learning_rate_schedule(config.train)
    assert float(schedule(0)) < float(schedule(5)) == pytest.approx(0.01)
    assert float(schedule(19)) < 0.002
    constant = load_config(None, ["train.schedule=constant"]).train
    assert learning_rate_schedule(constant) == constant.learning_rate
    with pytest.raises(ValueError, match="schedule"):
        learning_rate_schedule(load_config(None, ["train.schedule=step"]).train)


@pytest.mark.slow
def test_instance_recipe_trains_detector_with_composites_and_init_from(seg_run, tmp_path):
    seg_out = seg_run[1]
    messages = []
    config = _tiny_config(
        tmp_path, epochs=1, recipe="portrait_instance_mbv2_256.yaml",
        extra=[f"train.init_from={seg_out}/best.keras", "data.composites=4"])
    history = train(config, str(tmp_path / "inst"), verbose=0, log=messages.append)
    assert {"center_heatmap_loss", "box_size_loss"} <= set(history.history)
    assert any("composites: 4" in m for m in messages)
    copied = [m for m in messages if m.startswith("init_from")]
    assert copied and " copied 0 " not in copied[0]


def test_quantize_and_prune_in_one_run_is_refused(tmp_path):
    config = _tiny_config(tmp_path, extra=["optimize.quantize=true",
                                           "optimize.prune_sparsity=0.5"])
    with pytest.raises(ValueError, match="prune_preserve"):
        train(config, str(tmp_path / "run"), verbose=0, log=lambda *_: None)


@pytest.mark.slow     # trains through the trainer more than once
def test_freeze_batchnorm_keeps_the_loaded_statistics(seg_run, tmp_path):
    import tf_keras as keras

    seg_out = seg_run[1]

    def moving_means(model):
        return {layer.name: layer.moving_mean.numpy() for layer in model.layers
                if isinstance(layer, keras.layers.BatchNormalization)}

    before = moving_means(pg.load_model(os.path.join(seg_out, "best.keras")))
    for freeze, out in ((True, "frozen"), (False, "free")):
        config = _tiny_config(tmp_path, epochs=1, extra=[
            f"train.init_from={seg_out}/best.keras", f"train.freeze_batchnorm={freeze}"])
        train(config, str(tmp_path / out), verbose=0, log=lambda *_: None)
        after = moving_means(pg.load_model(str(tmp_path / out / "last.keras")))
        same = all(np.allclose(before[k], after[k]) for k in before)
        assert same == freeze


DETECTOR_PREFIXES = "[detector_, center_heatmap, box_size]"


def test_trainable_prefixes_train_the_detector_on_a_frozen_segmenter(seg_run, tmp_path):
    seg_out = seg_run[1]
    seg = pg.load_model(os.path.join(seg_out, "best.keras"))
    messages = []
    config = _tiny_config(tmp_path, epochs=1, recipe="portrait_instance_mbv2_256.yaml", extra=[
        f"train.init_from={seg_out}/best.keras", "data.composites=0",
        f"train.trainable={DETECTOR_PREFIXES}"])
    model = pg.build_segmenter(config)
    initial = {name: model.get_layer(name).get_weights() for name in ("center_heatmap",
                                                                       "box_size")}
    inst_out = tmp_path / "inst"
    train(config, str(inst_out), verbose=0, log=messages.append, model=model)
    trained = pg.load_model(str(inst_out / "last.keras"))

    def weights(model, name):
        return model.get_layer(name).get_weights()

    for layer in seg.layers:
        if layer.weights:       # frozen: weights and batch-norm statistics unchanged
            for a, b in zip(weights(seg, layer.name), weights(trained, layer.name)):
                np.testing.assert_array_equal(a, b, err_msg=layer.name)
    moved = [name for name in initial
             if not np.allclose(initial[name][0], weights(trained, name)[0])]
    assert moved == ["center_heatmap", "box_size"]
    assert any(m.startswith("train.trainable: training") for m in messages)


def test_missing_init_from_fails_before_reading_data_or_writing(tmp_path):
    config = _tiny_config(tmp_path, extra=[f"train.init_from={tmp_path}/nowhere.keras"])
    with pytest.raises(FileNotFoundError, match=r"nowhere.keras, which does not exist"):
        train(config, str(tmp_path / "run"), verbose=0, log=lambda *_: None)
    assert not (tmp_path / "run").exists()


def test_trainable_prefix_matching_nothing_is_a_clear_error(tmp_path):
    config = _tiny_config(tmp_path, epochs=1, extra=["train.trainable=[detektor_]"])
    with pytest.raises(ValueError, match=r"no layer with weights starts with \['detektor_'\]"):
        train(config, str(tmp_path / "run"), verbose=0, log=lambda *_: None)


@pytest.mark.slow     # trains through the trainer more than once
def test_kill_during_checkpoint_write_keeps_the_previous_good_copy(tmp_path, monkeypatch):
    """A kill between the temporary write and the rename (simulated by an exception in
    os.replace at epoch 2) leaves a loadable last.keras from epoch 1 and complete
    metrics; --resume re-runs epoch 2 and replaces its row."""
    from portrait_garden.train import trainer

    out = str(tmp_path / "run")
    real_replace = os.replace
    calls = {"n": 0}

    def dying_replace(src, dst):
        if dst.endswith("last.keras"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt("killed mid-save")
        return real_replace(src, dst)

    monkeypatch.setattr(trainer.os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        train(_tiny_config(tmp_path, epochs=3), out, verbose=0, log=lambda *_: None)
    monkeypatch.setattr(trainer.os, "replace", real_replace)
    model = pg.load_model(os.path.join(out, "last.keras"), compile=True)
    assert int(model.optimizer.iterations) == 2           # epoch 1's copy, whole
    assert _epochs_logged(out) == [1, 2]                  # metrics come before the models
    assert not [n for n in os.listdir(out) if n.startswith(".tmp-")]
    with open(os.path.join(out, "metrics.csv")) as f:
        assert len(f.read().strip().splitlines()) == 3    # header + 2 whole rows
    messages = []
    train(_tiny_config(tmp_path, epochs=3), out, resume=True, verbose=0, log=messages.append)
    assert any("Resuming" in m and "after epoch 2" in m for m in messages)
    assert _epochs_logged(out) == [1, 2, 3]
    model = pg.load_model(os.path.join(out, "last.keras"), compile=True)
    assert int(model.optimizer.iterations) == 6


def test_resume_with_another_config_fails_before_writing(seg_run, tmp_path):
    out = _copy_run(seg_run, tmp_path)
    saved = open(os.path.join(out, "config.yaml")).read()
    with pytest.raises(ValueError, match=r"different config.*model.decoder_filters: 8 -> 16"):
        train(_tiny_config(seg_run[0], extra=["model.decoder_filters=16"]), out,
              resume=True, verbose=0, log=lambda *_: None)
    assert open(os.path.join(out, "config.yaml")).read() == saved


def test_init_slice_starts_a_thinner_model_from_the_leading_channels(tmp_path):
    """`train.init_slice`: every layer of a width-0.35 / 8-channel-decoder model gets the
    leading slice of the same layer of a width-0.5 / 16-channel one; without it only the
    layers of equal shape copy."""
    from portrait_garden.train.trainer import init_from_saved

    wide = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.5, decoder_filters=16,
                                detector=True)
    wide.save(tmp_path / "wide.keras")
    thin = pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35, decoder_filters=8,
                                detector=True)
    total = sum(1 for layer in thin.layers if layer.weights)
    assert init_from_saved(thin, str(tmp_path / "wide.keras"), log=lambda *_: None) < total / 2
    logs = []
    assert init_from_saved(thin, str(tmp_path / "wide.keras"), log=logs.append,
                           slice_wider=True) == total
    assert "sliced" in logs[0]
    sliced = 0
    for layer in thin.layers:
        for small, big in zip(layer.get_weights(), wide.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(small, big[tuple(slice(0, n) for n in small.shape)])
            sliced += small.shape != big.shape
    assert sliced > 100   # kernels, biases and batch-norm vectors of most layers
