"""Photos as phones store them: EXIF orientation, 16-bit, palette, CMYK and alpha formats."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from portrait_garden.data.photos import EXIF_ORIENTATION, to_rgb8
from portrait_garden.data.readers import read_examples
from portrait_garden.segment import read_photo
from tests.conftest import REPO_ROOT

SHIPPED = os.path.join(REPO_ROOT, "saved_models", "portrait_instance_mbv2_256",
                       "model_float16.tflite")

_INVERSE = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
            2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            7: Image.Transpose.TRANSVERSE}


def _save_rotated(upright, path, orientation):
    """Stores `upright` so that a viewer applying EXIF `orientation` shows it upright."""
    stored = upright if orientation == 1 else upright.transpose(_INVERSE[orientation])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    stored.save(path, exif=exif, quality=95)
    return stored


@pytest.fixture(scope="module")
def portrait():
    from skimage import data

    # Not square, so a missed rotation changes the shape.
    return Image.fromarray(data.astronaut()).crop((40, 0, 440, 512)).resize((200, 256))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_read_photo_applies_every_exif_orientation(tmp_path, portrait, orientation):
    path = str(tmp_path / f"o{orientation}.jpg")
    _save_rotated(portrait, path, orientation)
    photo, applied = read_photo(path, with_orientation=True)
    assert applied == orientation
    assert photo.shape == (256, 200, 3)
    assert np.abs(photo.astype(int) - np.asarray(portrait, int)).mean() < 4  # JPEG noise only


@pytest.mark.skipif(not os.path.exists(SHIPPED), reason="no shipped model")
def test_segment_masks_line_up_with_the_upright_photo(tmp_path, portrait):
    from portrait_garden.inference import Predictor
    from portrait_garden.segment import segment_photos

    predictor = Predictor(SHIPPED, num_threads=1)
    upright = predictor.predict(np.asarray(portrait))["person_probability"] > 0.5
    assert upright.mean() > 0.2
    photos = tmp_path / "photos"
    photos.mkdir()
    for o in (1, 3, 6, 8):
        _save_rotated(portrait, str(photos / f"o{o}.jpg"), o)
    summaries = segment_photos(predictor, sorted(str(p) for p in photos.iterdir()),
                               str(tmp_path / "out"), progress=False).summaries
    for summary in summaries:
        assert (summary["height"], summary["width"]) == (256, 200), summary["photo"]
        stem = os.path.splitext(os.path.basename(summary["photo"]))[0]
        record = json.loads((tmp_path / "out" / f"{stem}.json").read_text())
        assert record["exif_orientation"] == int(stem[1:])
        mask = np.asarray(Image.open(tmp_path / "out" / f"{stem}_person1.png")) > 0
        iou = (mask & upright).sum() / (mask | upright).sum()
        assert iou > 0.9, (stem, iou)


def test_sixteen_bit_grey_png_is_scaled_not_clipped(tmp_path):
    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    path = str(tmp_path / "g16.png")
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    photo = read_photo(path)
    assert photo.dtype == np.uint8 and photo.shape == (64, 64, 3)
    np.testing.assert_allclose(photo[..., 0], np.round(ramp / 257.0), atol=1)
    assert (photo == 255).mean() < 0.01            # the old path clipped nearly all to white


def test_palette_png_with_transparency_keeps_its_colours(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, :4] = (200, 30, 40)
    rgb[:, 4:] = (10, 120, 250)
    path = str(tmp_path / "p.png")
    img = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    img.info["transparency"] = 0
    img.save(path, transparency=0)
    np.testing.assert_array_equal(read_photo(path), rgb)


@pytest.mark.parametrize("mode", ["CMYK", "LA", "RGBA", "L", "1", "F"])
def test_other_pixel_formats_become_8_bit_rgb(mode):
    grey = Image.fromarray(np.full((4, 5), 200, np.uint8))
    if mode == "F":
        img = Image.fromarray(np.full((4, 5), 200 / 255.0, np.float32), "F")
    elif mode == "1":
        img = grey.convert("1", dither=Image.Dither.NONE)
    else:
        img = grey.convert(mode)
    rgb, orientation = to_rgb8(img)
    arr = np.asarray(rgb)
    assert rgb.mode == "RGB" and arr.shape == (4, 5, 3) and orientation == 1
    expected = 255 if mode == "1" else 200
    assert np.abs(arr.astype(int) - expected).max() <= 2, (mode, arr[0, 0])


def test_dataset_reader_rotates_image_and_stored_frame_mask_together(tmp_path, portrait):
    root = tmp_path / "set"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = np.zeros((256, 200), np.uint8)
    mask[50:200, 60:120] = 255                      # drawn on the upright photo
    stored = _save_rotated(portrait, str(root / "images" / "a.jpg"), 6)
    # The mask was drawn on the stored (sideways) pixels, as a labelling tool would.
    Image.fromarray(mask).transpose(_INVERSE[6]).save(root / "masks" / "a.png")
    assert stored.size == (256, 200)
    (example,), _ = read_examples(str(root))
    assert example.image.shape == (256, 200, 3)
    np.testing.assert_array_equal(example.labels, (mask > 0).astype(np.uint8))


def test_predictor_refuses_floats_and_wide_ints():
    from portrait_garden.inference import Predictor

    if not os.path.exists(SHIPPED):
        pytest.skip("no shipped model")
    predictor = Predictor(SHIPPED, num_threads=1)
    with pytest.raises(ValueError, match="uint8"):
        predictor.predict(np.full((32, 32, 3), 0.5, np.float32))
    with pytest.raises(ValueError, match="uint8"):
        predictor.predict(np.full((32, 32, 3), 300, np.int64))
    with pytest.raises(ValueError, match="3 channels"):
        predictor.predict(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        predictor.predict(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        predictor.predict(np.zeros((0, 32, 3), np.uint8))
