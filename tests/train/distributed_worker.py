"""Runs in a subprocess for tests/train/test_distribution.py: TensorFlow's devices
must be configured before TensorFlow starts, which a pytest process has done already.

    python -m tests.train.distributed_worker step frozen|synchronized OUT.npz
    python -m tests.train.distributed_worker recipe RECIPE DATA OUT [KEY=VALUE ...] [--resume]
"""

import json
import sys

import numpy as np
import tensorflow as tf


def split_cpu(n=2):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])


def one_step(batch_norm, out_path):
    """One optimizer step on the same global batch of 4, on one device and mirrored on
    two logical CPUs, from the same weights; writes the losses and weights. SGD, so
    the weights show the gradient itself (Adam's first step is +-lr wherever the
    gradient is not zero, and float noise flips the sign of near-zero ones)."""
    split_cpu()
    import tf_keras as keras

    from portrait_garden.configs import load_config
    from portrait_garden.layers import namespace
    from portrait_garden.losses.segmentation import build_losses
    from portrait_garden.models.builder import build_segmenter
    from portrait_garden.train.distribution import make_strategy

    config = load_config(None, [
        "model.image_size=[128, 128]", "model.width_multiplier=0.35",
        "model.decoder_filters=8", "train.batch_size=4"])
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (4, 128, 128, 3)).astype("float32")
    masks = (rng.random((4, 128, 128, 1)) > 0.5).astype("float32")
    keras.utils.set_random_seed(0)
    initial = build_segmenter(config).get_weights()
    saved = {}
    # One batch-norm mode per process: a second MirroredStrategy in the same process
    # reuses the first one's collective instance keys.
    results = {}
    for name in ("default", "mirrored"):
        strategy = make_strategy(name, config.train.batch_size)
        # Both with synchronized batch norm when it trains: on one device it is the
        # same layer, and its mean/variance formula (E[x^2] - E[x]^2, no Bessel
        # correction of the moving variance) differs from the fused kernel.
        with strategy.scope(), namespace.synchronized_batch_norm(
                batch_norm == "synchronized"):
            model = build_segmenter(config)
            model.set_weights(initial)
            if batch_norm == "frozen":
                for layer in model.layers:
                    if isinstance(layer, keras.layers.BatchNormalization):
                        layer.trainable = False
            losses, weights = build_losses(model.output.keys())
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=losses,
                          loss_weights=weights)
        targets = {k: masks for k in model.output}
        data = tf.data.Dataset.from_tensor_slices((images, targets)).batch(4)
        history = model.fit(data, epochs=1, verbose=0)
        results[name] = (strategy.num_replicas_in_sync, history.history["loss"][0],
                         model.get_weights())
    prefix = batch_norm[0]
    saved[f"{prefix}_replicas"] = [results[n][0] for n in ("default", "mirrored")]
    saved[f"{prefix}_losses"] = [results[n][1] for n in ("default", "mirrored")]
    saved.update({f"{prefix}_w{i}": np.stack([w0, a, b]) for i, (w0, a, b) in enumerate(
        zip(initial, results["default"][2], results["mirrored"][2]))})
    try:
        make_strategy("mirrored", 3)
        indivisible = ""
    except ValueError as e:
        indivisible = str(e)
    np.savez(out_path, indivisible=indivisible, **saved)


def run_recipe(recipe, data, out, overrides):
    """`portrait-garden train` (`--resume` continues `out`) on 2 logical CPUs (for
    mirrored) or as one worker of a TF_CONFIG cluster; prints the run's metrics as JSON
    on the last line."""
    if "train.distribution=mirrored" in overrides:
        split_cpu()
    from portrait_garden.configs import load_config
    from portrait_garden.train import train

    resume = "--resume" in overrides
    config = load_config(recipe, [o for o in overrides if o != "--resume"])
    train(config, out, data_dir=data, resume=resume, verbose=0)
    print(json.dumps({"done": out}))


if __name__ == "__main__":
    if sys.argv[1] == "step":
        one_step(sys.argv[2], sys.argv[3])
    else:
        run_recipe(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
