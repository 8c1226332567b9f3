"""tools/model_soup.py: the weight average behind the default preset."""

import importlib.util
import os

import numpy as np
import pytest

import portrait_garden as pg
from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location(
    "model_soup", os.path.join(REPO_ROOT, "tools", "model_soup.py"))
model_soup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model_soup)


def _tiny(seed, decoder_filters=8):
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    return pg.PortraitSegmenter(image_size=(64, 64), width_multiplier=0.35,
                                decoder_filters=decoder_filters)


def test_soup_file_holds_the_mean_weights_and_predicts(tmp_path):
    a, b = _tiny(1), _tiny(2)
    expected = [(x + y) / 2 for x, y in zip(a.get_weights(), b.get_weights())]
    a.save(str(tmp_path / "a.keras"))
    b.save(str(tmp_path / "b.keras"))
    out = str(tmp_path / "soup.keras")
    model_soup.main(["--out", out, str(tmp_path / "a.keras"), str(tmp_path / "b.keras")])
    soup = pg.load_model(out)
    for got, want in zip(soup.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    image = np.random.default_rng(0).uniform(0, 255, (1, 64, 64, 3)).astype("float32")
    assert np.isfinite(soup.predict(image, verbose=0)["mask"]).all()
    assert not [n for n in os.listdir(tmp_path) if ".tmp" in n]


def test_models_of_different_architectures_are_refused():
    with pytest.raises(ValueError, match="does not share the first model's architecture"):
        model_soup.average([_tiny(1), _tiny(2, decoder_filters=16)])


def test_missing_file_or_single_model_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        model_soup.main(["--out", str(tmp_path / "s.keras"), str(tmp_path / "nope.keras"),
                         str(tmp_path / "nope2.keras")])
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        model_soup.main(["--out", str(tmp_path / "s.keras"), str(tmp_path / "one.keras")])
    assert "two or more models" in capsys.readouterr().err
    assert not (tmp_path / "s.keras").exists()
