"""Model files a user may pass by mistake get a message saying what is wrong and what to do."""

import json
import struct
import zipfile
import zlib

import numpy as np
import pytest
import tf_keras

import portrait_garden as pg
from portrait_garden.data import DataError
from portrait_garden.data.photos import DEFAULT_MAX_PIXELS
from portrait_garden.saving import load_portrait_model
from portrait_garden.segment import read_photo
from tests.conftest import tiny_segmenter


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "tiny.keras"
    tiny_segmenter().save(path)
    return path


def _plain_model_file(path):
    model = tf_keras.Sequential([tf_keras.Input((8,)), tf_keras.layers.Dense(2)])
    model.save(path)
    return path


def test_truncated_keras_file_is_named_as_truncated(saved, tmp_path):
    data = saved.read_bytes()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut.keras is truncated or not a Keras archive"):
        pg.load_model(cut)


def test_keras3_file_loads_with_keras3_and_is_checked_as_a_network(tmp_path):
    keras3 = pytest.importorskip("keras")
    assert keras3.__version__.startswith("3.")       # TF 2.21 ships Keras 3
    model = keras3.Sequential([keras3.Input((8,)), keras3.layers.Dense(2)])
    model.save(tmp_path / "k3.keras")
    assert isinstance(pg.load_model(tmp_path / "k3.keras"), keras3.Model)
    with pytest.raises(ValueError, match=r"k3.keras is a Keras model but not a portrait-garden"):
        load_portrait_model(tmp_path / "k3.keras")


def test_layers_of_another_package_are_named(tmp_path):
    plain = _plain_model_file(tmp_path / "plain.keras")
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(foreign, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][1].update(
                    module=None, class_name="Foo", registered_name="other_pkg>Foo")
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    with pytest.raises(ValueError, match=r"layers from other packages: other_pkg>Foo"):
        pg.load_model(foreign)


def test_plain_keras_model_is_not_taken_for_a_portrait_network(tmp_path):
    from portrait_garden.inference import Predictor

    plain = _plain_model_file(tmp_path / "plain.keras")
    assert isinstance(pg.load_model(plain), tf_keras.Model)      # loading alone is fine
    with pytest.raises(ValueError, match=r"not a portrait-garden network.*'mask'"):
        load_portrait_model(plain)
    with pytest.raises(ValueError, match="not a portrait-garden network"):
        Predictor(str(plain))


def test_own_models_pass_the_checks(saved):
    model = load_portrait_model(saved)
    assert "mask" in model.output


def _png_header_only(path, width, height):
    """A PNG whose header claims width x height (no pixel data): enough for the size check."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return str(path)


def test_decompression_bomb_is_refused_with_the_flag_to_allow_it(tmp_path):
    bomb = _png_header_only(tmp_path / "bomb.png", 16000, 12000)
    with pytest.raises(DataError, match=r"192\.0 MP \(16000x12000\), above the 89\.5 MP "
                                        r"limit.*--max-pixels 192000000"):
        read_photo(bomb)


def test_max_pixels_lowers_and_raises_the_limit(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(path)
    with pytest.raises(DataError, match=r"--max-pixels 120000"):
        read_photo(str(path), max_pixels=100_000)
    assert read_photo(str(path), max_pixels=120_000).shape == (300, 400, 3)
    # PIL's own guard (used by the dataset readers) is left as it was.
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS
