# Two commands do all set-up on a fresh machine: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast demo lint install clean

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check portrait_garden tests benchmarks tools setup.py

test: lint
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 tests

# Everything but the tests marked slow (training, full exports, notebooks).
test-fast: lint
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 -m "not slow" tests

demo: $(STAMP)
	$(VENV)/bin/portrait-garden demo --out demo_output

clean:
	rm -rf $(VENV) demo_output .pytest_cache
