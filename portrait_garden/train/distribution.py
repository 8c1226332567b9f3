"""`train.distribution`: which `tf.distribute` strategy the trainer runs under.

- `default`: TensorFlow's default strategy (one device).
- `mirrored`: `MirroredStrategy` over every local GPU, or over the logical CPU
  devices when there is no GPU (`tf.config.set_logical_device_configuration`
  splits a CPU in two; the tests do).
- `multi_worker`: `MultiWorkerMirroredStrategy`, cluster and task read from the
  standard `TF_CONFIG` environment variable.
- `tpu`: `TPUStrategy` on the TPU named by `TPU_NAME` or attached to this host.

The recipe's `train.batch_size` is the *global* batch: each of the N replicas
gets `batch_size / N`. The learning rate is not scaled: every step averages the
gradient over the same global batch as a one-device run, so the recipe's rate
keeps its meaning. Batch norm is built `synchronized=True` when there is more
than one replica, so its statistics are those of the global batch, as on one
device (per-replica statistics over 8 images or fewer are noisy, and training
would no longer match the one-device recipe).
"""

import json
import os

import tensorflow as tf

DISTRIBUTIONS = ("default", "mirrored", "multi_worker", "tpu")


class DistributionError(ValueError):
    """The requested strategy cannot run here; the message names what is missing."""


def _check_tf_config():
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise DistributionError(
            "train.distribution=multi_worker needs the TF_CONFIG environment variable, "
            "which names the cluster and this process's task, e.g. TF_CONFIG="
            '\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\' on the first machine and index 1 on '
            "the second. Use train.distribution=mirrored for one machine.")
    try:
        spec = json.loads(text)
        workers = spec["cluster"]["worker"]
        task = spec["task"]
        task_type, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise DistributionError(
            f"TF_CONFIG is not valid ({type(e).__name__}: {e}): it must be JSON with "
            "cluster.worker (a list of host:port) and task.type / task.index.") from None
    if task_type == "worker" and not 0 <= index < len(workers):
        raise DistributionError(f"TF_CONFIG task.index {index} is outside cluster.worker "
                                f"({len(workers)} workers).")
    return spec


def make_strategy(name, global_batch_size):
    """The `tf.distribute.Strategy` for `train.distribution`.

    Raises:
      DistributionError: unknown name; `multi_worker` without a valid `TF_CONFIG`;
        `tpu` without a TPU; a global batch that does not divide by the replicas.
    """
    if name not in DISTRIBUTIONS:
        raise DistributionError(f"train.distribution must be one of {list(DISTRIBUTIONS)}, "
                                f"got {name!r}.")
    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or \
            tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    elif name == "multi_worker":
        _check_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        if not (os.environ.get("TPU_NAME") or tf.config.list_logical_devices("TPU")):
            raise DistributionError(
                "train.distribution=tpu but no TPU is attached to this host and TPU_NAME "
                "is unset. Run on a TPU VM, or set TPU_NAME to the TPU's name or grpc:// "
                "address; use mirrored or default elsewhere.")
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
                tpu=os.environ.get("TPU_NAME", ""))
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as e:
            raise DistributionError(f"Could not connect to the TPU ({e}).") from None
        strategy = tf.distribute.TPUStrategy(resolver)
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise DistributionError(
            f"train.batch_size {global_batch_size} is the global batch and must divide by "
            f"the {replicas} replicas of train.distribution={name}; use e.g. "
            f"{max(replicas, global_batch_size - global_batch_size % replicas)}.")
    return strategy


def is_chief(strategy):
    """True for the process that writes the run's files: every single-process
    strategy, and worker 0 (or the `chief` task) of a multi-worker cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief
