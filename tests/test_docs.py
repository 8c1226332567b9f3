"""The Python snippet of docs/app_guide.md runs as written on the shipped model."""

import os
import re

from PIL import Image

from tests.conftest import REPO_ROOT

GUIDE = os.path.join(REPO_ROOT, "docs", "app_guide.md")
MODEL = os.path.join(REPO_ROOT, "saved_models", "portrait_instance_mbv2_256",
                     "model_float16.tflite")


def _python_blocks(path):
    text = open(path, encoding="utf-8").read()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_app_guide_python_snippet_runs_on_a_rotated_camera_photo(tmp_path):
    from skimage import data

    upright = data.astronaut()                                   # 512 x 512, one person
    upright = upright[:, 64:448]                                 # 512 x 384, portrait
    # Stored sideways with EXIF orientation 6, as a phone camera writes it.
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo_path = str(tmp_path / "camera.jpg")
    stored.save(photo_path, exif=exif, quality=95)

    (block,) = _python_blocks(GUIDE)
    scope = {"photo_path": photo_path, "model_path": MODEL}
    exec(compile(block, GUIDE, "exec"), scope)                   # noqa: S102 - our own doc
    labels, matte = scope["labels"], scope["matte"]
    assert labels.shape == upright.shape[:2] == matte.shape       # the upright frame
    assert int(scope["out"]["num_instances"]) >= 1
    person = labels > 0
    assert person.mean() > 0.2
    # The astronaut's head is near the top centre of the upright photo.
    assert person[60:200, 120:260].mean() > 0.5
