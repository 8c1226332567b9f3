"""Every recipe in recipes/ loads, builds and trains two steps at a tiny size."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from portrait_garden.configs import load_config
from portrait_garden.data import centernet_targets, instance_boxes
from portrait_garden.losses import targets_for_outputs
from portrait_garden.models import build_segmenter
from portrait_garden.train import apply_optimization, compile_segmenter
from portrait_garden.train.trainer import build_training_state
from tests.conftest import RECIPES_DIR, synthetic_batch
from tests.train.test_distribution import MIRRORED_RECIPES

pytestmark = pytest.mark.slow     # every recipe builds and trains two steps

RECIPES = sorted(glob.glob(os.path.join(RECIPES_DIR, "*.yaml")))


def _tiny(recipe):
    pretrained = load_config(recipe).model.backbone_weights != "none"
    # Pretrained recipes keep their width (only 1.0 has ImageNet weights) and load them.
    width = [] if pretrained else ["model.width_multiplier=0.35"]
    return load_config(recipe, ["model.image_size=[64, 64]", "model.decoder_filters=8",
                                "train.warmup_steps=1", *width])


def _graph_key(recipe):
    c = _tiny(recipe)
    return repr((c.model, c.loss, c.optimize))


def _distinct_graphs():
    """One recipe per distinct (model, loss, optimize) at the tiny size: recipes that
    differ only in data, schedule or init_from build and train the same graph. Graphs
    that tests/train/test_distribution.py trains through the trainer (MIRRORED_RECIPES:
    QAT with resume, pruning with stripping) are not built again here."""
    trained_elsewhere = {_graph_key(os.path.join(RECIPES_DIR, r)) for r in MIRRORED_RECIPES}
    groups = {}
    for recipe in RECIPES:
        groups.setdefault(_graph_key(recipe), []).append(recipe)
    return [members[0] for key, members in groups.items() if key not in trained_elsewhere]


@pytest.mark.parametrize("recipe", _distinct_graphs(), ids=os.path.basename)
def test_recipe_builds_and_trains_two_steps(recipe):
    pretrained = load_config(recipe).model.backbone_weights != "none"
    config = _tiny(recipe)
    float_model = build_segmenter(config)
    if pretrained:
        assert float_model.get_config()["backbone_padding"] == "symmetric"
    assert float_model.output["mask"].shape[1:] == (64, 64, 1)
    assert float_model.categorical_attention == config.model.categorical_attention
    model = apply_optimization(float_model, config)   # QAT / pruning recipes: their stage
    if config.optimize.quantize:
        assert any(type(layer).__name__ == "QuantizeWrapperV2" for layer in model.layers)
    if config.optimize.prune_sparsity:
        assert any(type(layer).__name__ == "PruneLowMagnitude" for layer in model.layers)
    compile_segmenter(model, config)
    images, masks = synthetic_batch(batch=2, size=(64, 64))
    detector_targets = None
    if config.model.detector:
        per_image = [centernet_targets(*instance_boxes(tf.constant(m[..., 0].astype("uint8")),
                                                       4), (64, 64)) for m in masks]
        detector_targets = {k: tf.stack([t[k] for t in per_image]) for k in per_image[0]}
    callbacks = []
    if config.optimize.prune_sparsity:
        from portrait_garden.optimize import pruning_callbacks

        callbacks = pruning_callbacks()
    targets = targets_for_outputs(masks, model.output.keys(), detector_targets)
    build_training_state(model, images, targets)
    history = model.fit(images, targets, epochs=2, batch_size=2, verbose=0,
                        callbacks=callbacks)
    assert all(np.isfinite(history.history["loss"]))
    assert int(model.optimizer.iterations) == 2
