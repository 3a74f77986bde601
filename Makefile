# fakeapollo: `make serve` starts the mock, `make test` runs every check. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8765
# Two stamps in the one venv: serving needs fakeapollo alone, testing adds the `test` extra.
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
# `make test BROWSER=skip` never installs Chromium (the inspector's browser test is then skipped, loudly).
BROWSER ?= auto

.PHONY: serve test lint typecheck unit bench browser screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): $(BIN)/python pyproject.toml
	@echo "Installing fakeapollo (what serving needs) into $(VENV) ..."
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $(SERVE_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	@echo "Installing fakeapollo with its test extras into $(VENV) ..."
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/fakeapollo serve --host $(HOST) --port $(PORT)

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# The inspector page's test drives Debian's chromium through chromium-driver. As root with apt-get
# (CI, a fresh container) they are installed here; anywhere else a warning says the test will be skipped.
browser:
	@BROWSER=$(BROWSER) sh tests/install-browser.sh

# Retake docs/inspector.png (the README's screenshot) with the browser test.
screenshot: $(STAMP) browser
	FAKEAPOLLO_SCREENSHOT=docs/inspector.png $(BIN)/python -m pytest -q tests/test_inspector_browser.py

unit: $(STAMP)
	$(BIN)/python -m pytest -q -x

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist
