import pytest

from tests.notebooks.harness import check_committed_copy, check_runs_and_draws

NAME = "02_train_on_your_data.ipynb"


@pytest.mark.slow
def test_runs_top_to_bottom_and_draws(tmp_path, monkeypatch):
    check_runs_and_draws(NAME, tmp_path, monkeypatch)


def test_committed_copy_has_badge_setup_and_outputs():
    check_committed_copy(NAME)
