"""The Colab notebooks run top to bottom (SMALL mode) and draw their pictures."""

import os

import nbformat
import pytest

from tests.conftest import REPO_ROOT

NOTEBOOKS = ("01_quickstart.ipynb", "02_train_on_your_data.ipynb",
             "03_qat_pruning_tflite.ipynb")


def _execute(name, cwd, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PG_SMALL", "1")
    monkeypatch.setenv("PG_ROOT", REPO_ROOT)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(os.path.join(REPO_ROOT, "colab", name), as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_draws(name, tmp_path, monkeypatch):
    nb = _execute(name, tmp_path, monkeypatch)   # raises CellExecutionError on any error
    pictures = [c for c in nb.cells if "picture" in c.metadata.get("tags", [])]
    assert pictures, "every notebook shows pictures"
    for cell in pictures:
        assert any("image/png" in out.get("data", {}) for out in cell.outputs), \
            f"cell {cell.source[:60]!r} drew no image"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_badge_setup_and_outputs(name):
    nb = nbformat.read(os.path.join(REPO_ROOT, "colab", name), as_version=4)
    assert "colab.research.google.com" in nb.cells[0].source
    assert "SMALL" in nb.cells[1].source and "pip" in nb.cells[1].source
    pictures = [c for c in nb.cells if "picture" in c.metadata.get("tags", [])]
    assert all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in pictures), \
        "commit the notebook with its outputs (images included)"
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.get("output_type") == "error"]
