"""What `import portrait_garden` costs and where a newcomer finds the paper's model."""

import subprocess
import sys


def test_import_loads_no_heavy_optional_modules():
    # pycocotools is only for evaluation, LiteRT for .tflite files: imported when used.
    # (matplotlib is not checked: `import tensorflow` 2.21 itself imports Keras 3, which
    # imports it; our Keras 3 layers are imported on purpose, so keras.saving finds them.)
    code = ("import sys, portrait_garden; "
            "print(','.join(m for m in ('pycocotools', 'ai_edge_litert') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == ""


def test_the_paper_model_and_the_inference_api_have_one_home_each():
    import portrait_garden as pg
    from portrait_garden import inference, models

    assert pg.InstanceSegmenter is models.InstanceSegmenter
    assert models.InstanceSegmenter.__module__ == "portrait_garden.models.instance_segmenter"
    assert inference.Predictor.__module__ == "portrait_garden.inference"
    assert not hasattr(pg.export, "InstanceSegmenter")   # export only converts and writes
