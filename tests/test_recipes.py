"""Every recipe in recipes/ loads and builds (at a tiny size, to stay fast)."""

import glob
import os

import pytest

from portrait_garden.configs import load_config
from portrait_garden.models import build_segmenter
from tests.conftest import RECIPES_DIR

RECIPES = sorted(glob.glob(os.path.join(RECIPES_DIR, "*.yaml")))


@pytest.mark.parametrize("recipe", RECIPES, ids=os.path.basename)
def test_recipe_builds(recipe):
    config = load_config(recipe, ["model.image_size=[64, 64]"])
    model = build_segmenter(config)
    assert model.output["mask"].shape[1:] == (64, 64, 1)
    assert model.categorical_attention == config.model.categorical_attention
