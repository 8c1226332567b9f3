"""train.distribution: tf.distribute strategies in the trainer, exercised on this CPU
(2 logical devices for mirrored, 2 local worker processes for multi_worker)."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import portrait_garden as pg
from portrait_garden.configs import load_config
from portrait_garden.configs.loader import ConfigError
from portrait_garden.train import PRUNED_MODEL, train
from portrait_garden.train.distribution import DistributionError, make_strategy
from tests.conftest import RECIPES_DIR, REPO_ROOT
from tests.data.conftest import write_portrait_folder
from tests.train.test_trainer import TINY_OVERRIDES

MIRRORED_RECIPES = ("portrait_instance_mbv2_256_qat.yaml",
                    "portrait_instance_mbv2_256_prune50.yaml")
"""The optimization recipes trained end to end under MirroredStrategy below; their
graphs are not trained again by tests/test_recipes.py."""


def _worker(*args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.train.distributed_worker", *args], cwd=REPO_ROOT,
        env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def _finish(process, timeout=900):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def _overrides(folder, *extra):
    return [*TINY_OVERRIDES, f"data.train=[{{path: {folder}, split: train}}]",
            f"data.val=[{{path: {folder}, split: val}}]", "data.augment=false",
            "train.epochs=1", *extra]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "set"
    write_portrait_folder(path, n=8, size=(48, 64))
    return path


def test_multi_worker_without_tf_config_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(DistributionError, match="needs the TF_CONFIG environment variable"):
        make_strategy("multi_worker", 16)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1"]}, '
                                    '"task": {"type": "worker", "index": 3}}')
    with pytest.raises(DistributionError, match=r"task.index 3 is outside cluster.worker"):
        make_strategy("multi_worker", 16)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(DistributionError, match="TF_CONFIG is not valid"):
        make_strategy("multi_worker", 16)


def test_tpu_without_a_tpu_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(DistributionError, match="no TPU is attached.*TPU_NAME is unset"):
        make_strategy("tpu", 16)


def test_unknown_distribution_is_a_config_error():
    with pytest.raises(ConfigError, match=r"train.distribution must be one of \['default'"):
        load_config(None, ["train.distribution=gpus"])


def test_trainer_refuses_before_writing_anything(tmp_path, folder, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    config = load_config(os.path.join(RECIPES_DIR, "portrait_seg_mbv2_256.yaml"),
                         _overrides(folder, "train.distribution=multi_worker"))
    with pytest.raises(DistributionError, match="TF_CONFIG"):
        train(config, str(tmp_path / "run"), verbose=0, log=lambda *_: None)
    assert not (tmp_path / "run").exists()


def _step(batch_norm, tmp_path):
    out = tmp_path / f"{batch_norm}.npz"
    _finish(_worker("step", batch_norm, str(out)))
    result = np.load(out)
    prefix = batch_norm[0]
    assert list(result[f"{prefix}_replicas"]) == [1, 2]
    assert "train.batch_size 3 is the global batch and must divide by the 2 replicas" in \
        str(result["indivisible"])
    updates = {}
    for key in (k for k in result.files if k.startswith(f"{prefix}_w")):
        initial, single, mirrored = result[key]
        updates[key] = (single - initial, mirrored - initial)
    return result[f"{prefix}_losses"], updates


@pytest.mark.slow
def test_mirrored_step_equals_the_one_device_step(tmp_path):
    """Same weights, same global batch of 4 (SGD): 2 replicas of 2 take the same step
    as one device, losses averaged and gradients summed over the replicas."""
    (one, mirrored), updates = _step("frozen", tmp_path)
    assert abs(one - mirrored) <= 1e-6 * abs(one), (one, mirrored)
    moved = 0
    for key, (single, replicated) in updates.items():
        np.testing.assert_allclose(replicated, single, rtol=1e-4, atol=1e-6, err_msg=key)
        largest = np.abs(single).max()
        if largest > 1e-4:      # the tensors the step really moves agree to 0.1% of it
            assert np.abs(replicated - single).max() <= 1e-3 * largest, key
            moved += 1
    # Frozen batch norm on noise saturates most ReLU6s: few tensors move much.
    assert moved >= 3


@pytest.mark.slow
def test_mirrored_step_with_synchronized_batch_norm(tmp_path):
    """Training batch norm, synchronized: the loss (global batch statistics) is the
    one-device loss; the step agrees within 2% of the largest update (0.24% measured on
    an AVX2 CPU, 0.44% on an AVX-512 one), but tf_keras's synchronized batch norm
    back-propagates differently from one device on a few small decoder tensors (4 images):
    up to ~10% of their update on the AVX2 CPU; on the AVX-512 one 4 of 340 tensors by
    11-24%, all with updates below 1% of the largest."""
    (one, mirrored), updates = _step("synchronized", tmp_path)
    assert abs(one - mirrored) <= 1e-6 * abs(one), (one, mirrored)
    largest = max(np.abs(single).max() for single, _ in updates.values())
    worst = max(np.abs(single - replicated).max() for single, replicated in updates.values())
    print("largest update", largest, "largest difference", worst)
    assert worst <= 0.02 * largest
    # Tensors whose step differs by more than 10% of their own update: few, and small ones.
    off = [k for k, (s, r) in updates.items()
           if np.abs(s - r).max() > 0.1 * np.abs(s).max() + 1e-6]
    print("tensors off by > 10% of their update:", len(off), "of", len(updates))
    assert len(off) <= 0.1 * len(updates), off
    assert all(np.abs(updates[k][0]).max() <= 0.02 * largest for k in off), off


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _history(run):
    with open(os.path.join(run, "metrics.json")) as f:
        return json.load(f)


@pytest.mark.slow
def test_multi_worker_two_local_workers_match_one_worker(tmp_path, folder):
    recipe = os.path.join(RECIPES_DIR, "portrait_seg_mbv2_256.yaml")
    single = str(tmp_path / "single")
    # The one-worker reference runs beside the cluster (the test's wall time, not its work).
    reference = _worker("recipe", recipe, str(folder), single, *_overrides(folder))
    cluster = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    run = str(tmp_path / "cluster")
    workers = [
        _worker("recipe", recipe, str(folder), run,
                *_overrides(folder, "train.distribution=multi_worker"),
                env={"TF_CONFIG": json.dumps({"cluster": {"worker": cluster},
                                              "task": {"type": "worker", "index": i}})})
        for i in range(2)]
    for process in [*workers, reference]:
        _finish(process)
    model = pg.load_model(os.path.join(run, "last.keras"))   # the chief's checkpoint
    assert "mask" in model.output
    got, expected = _history(run)[-1], _history(single)[-1]
    print("multi-worker", {k: got[k] for k in ("loss", "val_loss")},
          "single", {k: expected[k] for k in ("loss", "val_loss")})
    for key in ("loss", "val_loss"):
        assert got[key] == pytest.approx(expected[key], rel=1e-3), key


@pytest.mark.slow
def test_qat_and_pruning_recipes_train_and_resume_under_mirrored(tmp_path, folder):
    """The optimization recipes through the trainer, under MirroredStrategy on 2 logical
    CPUs (the trainer's own coverage of them): QAT trains fake-quantized layers and
    resumes from its .h5 backup; pruning reaches 50% and strips its wrappers. From random
    weights (no float run first): the tfmot wrappers are what is checked, not what they
    start from. Exporting such models is not repeated here: notebook 03 (slow set) exports
    a QAT and a pruned model through the whole pipeline, and tests/optimize converts both
    kinds to .tflite."""
    def start(recipe, out, epochs, *extra):
        return _worker("recipe", os.path.join(RECIPES_DIR, recipe), str(folder), out,
                       *_overrides(folder, "train.init_from=", "data.composites=0",
                                   "model.image_size=[128, 128]", f"train.epochs={epochs}",
                                   "train.distribution=mirrored", "optimize.prune_end_step=2",
                                   "optimize.prune_frequency=1", *extra))

    qat, prune = str(tmp_path / "qat"), str(tmp_path / "prune")
    qat_recipe, prune_recipe = MIRRORED_RECIPES
    qat_process = start(qat_recipe, qat, 1)
    prune_log = _finish(start(prune_recipe, prune, 2))
    _finish(qat_process)
    # QAT: resume one more epoch from the .h5 backup while the first epoch's model loads.
    resumed = start(qat_recipe, qat, 2, "--resume")
    assert "val_quant_mask_person_iou" in _history(qat)[-1]
    model = pg.load_model(os.path.join(qat, "best.h5"))
    assert any(type(layer).__name__ == "QuantizeWrapperV2" for layer in model.layers)
    _finish(resumed)
    assert [entry["epoch"] for entry in _history(qat)] == [1, 2]
    # Pruning: half the kernel weights are zero after stripping.
    stripped = pg.load_model(os.path.join(prune, PRUNED_MODEL))
    assert not any(type(layer).__name__ == "PruneLowMagnitude" for layer in stripped.layers)
    assert pg.optimize.sparsity(stripped) == pytest.approx(0.5, abs=0.01)
    assert "sparsity of the pruned kernels 0.50" in prune_log


def test_every_replica_gets_examples_from_the_last_validation_batch():
    """Batches of 4, 3 and 1 examples on 2 replicas become 4, 4 and 2, each padded with
    its own examples (an empty replica batch crashes oneDNN's convolution)."""
    import tensorflow as tf

    from portrait_garden.train.trainer import fill_every_replica

    images = np.arange(8, dtype=np.float32).reshape(8, 1)
    dataset = tf.data.Dataset.from_tensor_slices(({"image": images}, images * 10))
    batched = dataset.take(4).batch(4).concatenate(dataset.skip(4).take(3).batch(3)) \
        .concatenate(dataset.skip(7).batch(1))
    got = [(x["image"].numpy().ravel().tolist(), y.numpy().ravel().tolist())
           for x, y in fill_every_replica(batched, 2)]
    assert got == [([0, 1, 2, 3], [0, 10, 20, 30]), ([4, 5, 6, 4], [40, 50, 60, 40]),
                   ([7, 7], [70, 70])]
    single = tf.data.Dataset.from_tensor_slices(images).batch(3)
    assert [b.shape[0] for b in fill_every_replica(single, 4)] == [4, 4, 4]
    assert fill_every_replica(single, 1) is single
