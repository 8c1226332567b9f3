"""Shared checks of the Colab notebooks: each runs top to bottom (SMALL mode) and draws
its pictures; the committed copy keeps its outputs. One test file per notebook, so that
pytest-xdist (--dist loadfile) runs them in parallel."""

import os

import nbformat

from tests.conftest import REPO_ROOT


def _execute(name, cwd, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PG_SMALL", "1")
    monkeypatch.setenv("PG_ROOT", REPO_ROOT)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(os.path.join(REPO_ROOT, "colab", name), as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def check_runs_and_draws(name, tmp_path, monkeypatch):
    nb = _execute(name, tmp_path, monkeypatch)   # raises CellExecutionError on any error
    pictures = [c for c in nb.cells if "picture" in c.metadata.get("tags", [])]
    assert pictures, "every notebook shows pictures"
    for cell in pictures:
        assert any("image/png" in out.get("data", {}) for out in cell.outputs), \
            f"cell {cell.source[:60]!r} drew no image"


def check_committed_copy(name):
    nb = nbformat.read(os.path.join(REPO_ROOT, "colab", name), as_version=4)
    assert "colab.research.google.com" in nb.cells[0].source
    assert "SMALL" in nb.cells[1].source and "pip" in nb.cells[1].source
    pictures = [c for c in nb.cells if "picture" in c.metadata.get("tags", [])]
    assert all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in pictures), \
        "commit the notebook with its outputs (images included)"
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.get("output_type") == "error"]
