"""`segment` output a user can trust: atomic sets per photo, no stale files, unique names,
--skip-bad, concurrent runs, and errors before inference."""

import json
import multiprocessing
import os

import numpy as np
import pytest
from PIL import Image

from portrait_garden.data import DataError
from portrait_garden.segment import output_stems, segment_photos
from tests.conftest import FakePredictor


def _photo(path, value=120, size=(40, 60)):
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)
    return str(path)


def _consistent(out_dir):
    """Every JSON lists exactly the person PNGs of its stem, and each mask equals its RLE."""
    from pycocotools import mask as mask_utils

    for name in os.listdir(out_dir):
        if not name.endswith(".json"):
            continue
        record = json.load(open(os.path.join(out_dir, name)))
        stem = record["output_stem"]
        masks = sorted(n for n in os.listdir(out_dir)
                       if n.startswith(f"{stem}_person") and n.endswith(".png"))
        assert len(masks) == record["num_persons"], (name, masks)
        for person in record["persons"]:
            png = np.asarray(Image.open(os.path.join(out_dir, f"{stem}_person{person['id']}.png")))
            rle = dict(person["mask_rle"], counts=person["mask_rle"]["counts"].encode())
            np.testing.assert_array_equal(png > 0, mask_utils.decode(rle) > 0)


def test_rerun_replaces_the_previous_set_without_stale_person_files(tmp_path):
    photo = _photo(tmp_path / "a.jpg")
    out = tmp_path / "out"
    segment_photos(FakePredictor(3), [photo], str(out), effect="blur", progress=False)
    assert (out / "a_person3.png").exists() and (out / "a_blur.png").exists()
    segment_photos(FakePredictor(1), [photo], str(out), progress=False)
    names = sorted(n for n in os.listdir(out) if not n.startswith("."))
    assert names == ["a.json", "a_overlay.png", "a_person1.png"]
    _consistent(str(out))


def test_same_stem_inputs_keep_their_extension(tmp_path):
    a, b = _photo(tmp_path / "x.jpg", 50), _photo(tmp_path / "x.png", 200)
    assert output_stems([a, b, str(tmp_path / "y.jpg")]) == ["x_jpg", "x_png", "y"]
    out = tmp_path / "out"
    run = segment_photos(FakePredictor(1), [a, b], str(out), progress=False)
    assert [s["output_stem"] for s in run.summaries] == ["x_jpg", "x_png"]
    assert json.load(open(out / "x_jpg.json"))["photo"] == a
    assert json.load(open(out / "x_png.json"))["photo"] == b


def test_skip_bad_continues_and_lists_the_failures(tmp_path):
    good1, good2 = _photo(tmp_path / "a.jpg"), _photo(tmp_path / "c.jpg")
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"b\.jpg: cannot read.*1 photo\(s\) before it were "
                                        r"written.*--skip-bad"):
        segment_photos(FakePredictor(1), [good1, str(bad), good2], str(out), progress=False)
    run = segment_photos(FakePredictor(2), [good1, str(bad), good2], str(out), progress=False,
                         skip_bad=True)
    assert [s["output_stem"] for s in run.summaries] == ["a", "c"]
    assert run.failed[0][0] == str(bad) and "cannot read" in run.failed[0][1]
    assert run.summary_line() == "2 photo(s) processed, 1 skipped, 4 person(s) found"


def test_cli_skip_bad_exit_code_and_summary(tmp_path, capsys, monkeypatch):
    from portrait_garden import cli

    _photo(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"broken")
    monkeypatch.setattr("portrait_garden.inference.Predictor",
                        lambda path: FakePredictor(1))
    model = tmp_path / "model.tflite"
    model.write_bytes(b"x")
    code = cli.main(["segment", str(tmp_path), "--out", str(tmp_path / "o"), "--skip-bad",
                     "--model", str(model)])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 photo(s) processed, 1 skipped, 1 person(s) found" in captured.out
    assert "skipped" in captured.err and "b.jpg" in captured.err


@pytest.mark.parametrize("problem", ["file", "unwritable"])
def test_output_problems_are_reported_before_inference(tmp_path, capsys, monkeypatch, problem):
    from portrait_garden import cli

    _photo(tmp_path / "a.jpg")
    out = tmp_path / "o"
    if problem == "file":
        out.write_text("I am a file")
    else:
        out.mkdir()
        out.chmod(0o500)
        if os.access(out, os.W_OK):      # root writes anyway: make the write itself fail

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr("portrait_garden.segment.tempfile.NamedTemporaryFile", refuse)

    def no_model(path):
        raise AssertionError("the model was loaded before the output folder was checked")

    monkeypatch.setattr("portrait_garden.inference.Predictor", no_model)
    assert cli.main(["segment", str(tmp_path / "a.jpg"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert ("is an existing file" if problem == "file" else "is not writable") in err


def _run_many(out_dir, photo, people, rounds):
    for _ in range(rounds):
        segment_photos(FakePredictor(people), [photo], out_dir, progress=False)


def test_concurrent_runs_into_one_folder_never_mix(tmp_path):
    photo = _photo(tmp_path / "p.jpg")
    out = str(tmp_path / "out")
    os.makedirs(out)
    ctx = multiprocessing.get_context("fork")
    for _ in range(3):
        workers = [ctx.Process(target=_run_many, args=(out, photo, people, 8))
                   for people in (1, 4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
            assert w.exitcode == 0
        _consistent(out)
    assert not [n for n in os.listdir(out) if n.startswith(".staging")]
