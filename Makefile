# The two commands of the README: `make serve` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# `make serve` installs what Airlock needs; `make test` adds the test and lint tools.
RUNTIME := $(VENV)/.runtime-$(SUM)
STAMP := $(VENV)/.installed-$(SUM)

.PHONY: serve test lint bench

$(RUNTIME): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	rm -f $(VENV)/.runtime-* && touch $@

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

serve: $(RUNTIME)
	$(VENV)/bin/airlock serve

test: $(STAMP)
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot handlers models tests bench clients/python/airlock_client examples

bench: $(STAMP)
	$(VENV)/bin/python bench/intake.py
