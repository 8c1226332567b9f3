import json
import os
import subprocess

import numpy as np
import pytest
import tf_keras as keras

import portrait_garden as pg
from portrait_garden.cli import main
from portrait_garden.evaluate import benchmark as bm
from portrait_garden.export import export_model, write_tflite
from portrait_garden.models import ServingConfig
from tests.data.conftest import write_coco_set


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = pg.PortraitSegmenter(image_size=(128, 128), width_multiplier=0.35,
                                 decoder_filters=8, detector=True)
    out = str(tmp_path_factory.mktemp("export"))
    export_model(model, out, ServingConfig(grid=(8, 8)), quantizations=("float32",))
    return out


@pytest.fixture
def fake_peer(tmp_path, monkeypatch):
    """A stand-in for MediaPipe's model: float [1, 256, 256, 3] -> [1, 256, 256, 1]."""
    inputs = keras.Input((256, 256, 3), batch_size=1)
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs)
    path = write_tflite(keras.Model(inputs, outputs), str(tmp_path / "peer.tflite"))
    monkeypatch.setattr(bm, "PEER_CACHE", path)
    monkeypatch.setattr(bm.fetch_peer, "__defaults__", (path,))
    return path


def test_benchmark_command_writes_table_json_and_plot(tiny_export, fake_peer, tmp_path,
                                                      capsys):
    write_coco_set(tmp_path / "coco")
    out = tmp_path / "bench"
    assert main(["benchmark", "--model", tiny_export, "--dataset", str(tmp_path / "coco"),
                 "--repeats", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| mediapipe selfie_segmentation |" in printed
    assert "pre/post-processing + grouping add" in printed
    with open(out / "benchmark.json") as f:
        report = json.load(f)
    names = [r["name"] for r in report["rows"]]
    assert names[0] == bm.PEER_NAME
    assert any(n.endswith("model_float32.tflite") for n in names)
    assert any(n.endswith("network_float32.tflite") for n in names)
    for row in report["rows"]:
        assert 0 < row["gzip_bytes"] < row["bytes"] * 1.01
        assert 0.0 <= row["person_iou"] <= 1.0
        for t in (1, 2):
            assert 0 < row[f"median_ms_{t}t"] <= row[f"p90_ms_{t}t"]
            assert row[f"vs_peer_{t}t"] > 0
    assert report["rows"][0]["vs_peer_1t"] == 1.0
    assert report["photos"] == 3 and report["pipeline_overhead"]
    # MediaPipe's marker is orange, ours blue (alpha 0.7 on white).
    from tests.conftest import dominant_fraction

    assert dominant_fraction(str(out / "benchmark.png"), 0, margin=60) > 1e-5
    assert dominant_fraction(str(out / "benchmark.png"), 2, margin=30) > 1e-5
    assert (out / "benchmark.md").read_text().startswith("| model |")


def test_benchmark_without_dataset_or_peer_reports_latency_and_size(tiny_export, capsys):
    assert main(["benchmark", "--model", os.path.join(tiny_export, "model_float32.tflite"),
                 "--no-peer", "--repeats", "2", "--photo-sizes", "50x70", "300x200"]) == 0
    printed = capsys.readouterr().out
    assert "latency and size only" in printed and "model_float32.tflite" in printed
    assert "| model_float32.tflite | 50x70 |" in printed
    assert "| model_float32.tflite | 300x200 |" in printed


def test_photo_sizes_are_parsed_or_refused():
    assert bm.parse_photo_size("1080x1920") == (1080, 1920)
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        bm.parse_photo_size("1080")
    with pytest.raises(ValueError, match="positive"):
        bm.parse_photo_size("0x10")


def test_unreachable_peer_is_a_clear_error(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(bm.subprocess, "run", no_network)
    with pytest.raises(bm.PeerUnavailable, match="--no-peer"):
        bm.fetch_peer(str(tmp_path / "cache" / "selfie.tflite"))


def test_a_file_that_is_not_ours_is_refused(tmp_path):
    inputs = keras.Input((8,))
    path = write_tflite(keras.Model(inputs, keras.layers.Dense(2)(inputs)),
                        str(tmp_path / "other.tflite"))
    with pytest.raises(ValueError, match="not a portrait-garden"):
        bm.TFLiteModel(path)
    with pytest.raises(FileNotFoundError):
        bm.models_from([str(tmp_path / "missing.tflite")])


def test_gzip_size_shrinks_sparse_files(tmp_path):
    dense = tmp_path / "dense.bin"
    sparse = tmp_path / "sparse.bin"
    values = np.random.default_rng(0).normal(size=10_000).astype(np.float32)
    dense.write_bytes(values.tobytes())
    values[::2] = 0.0
    sparse.write_bytes(values.tobytes())
    assert bm.gzip_size(str(sparse)) < 0.7 * bm.gzip_size(str(dense))
