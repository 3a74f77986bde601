# fakeapollo: `make serve` starts the mock, `make test` runs every check. Both build .venv first,
# from the lock files in requirements/ (exact versions with hashes), with a pinned uv in .tools/uv.
# The interpreter .venv is built on: the system's own python3 when it is 3.11 or newer, else the first
# python3 on PATH; `make PYTHON=...` picks another. On the reference machine the system's (Debian's,
# built with profile-guided and link-time optimisation) runs the suite in about a fifth less CPU than
# the python3 on PATH (pyenv's plain build of 3.11.7) and serves a request in about 15% less.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(if $(shell $(SYSTEM_PYTHON) -c 'import sys, venv; print(sys.version_info >= (3, 11))' 2>/dev/null | grep True),$(SYSTEM_PYTHON),python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8765
# The uv that installs the toolchain; bump it deliberately, like the lock.
UV_VERSION := 0.13.9
UV_HOME := .tools/uv
UV := $(UV_HOME)/bin/uv
# The locked toolchain: requirements/dev.txt (everything) and serve.txt (what serving needs), both
# compiled by uv from pyproject.toml with exact versions and hashes. `make lock` refreshes them.
LOCK_DEV := requirements/dev.txt
LOCK_SERVE := requirements/serve.txt
COMPILE := $(UV) pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	pyproject.toml requirements/build.in --all-extras
UV_PIP := UV_PYTHON_DOWNLOADS=never $(UV) pip
# pytest workers: four on the 2-core reference machine, so the ones waiting on a client, a
# subprocess or a socket leave the cores busy; idle workers take tests queued on busy ones
# (worksteal), so no worker is left running a long queue alone at the end (3:01 against 4:39 with
# three workers and the default distribution). `make test WORKERS=0` runs in one process.
WORKERS ?= 4
# Subprocesses (servers, clients, CLI runs) reuse compiled bytecode instead of compiling every
# import again: an environment that sets PYTHONDONTWRITEBYTECODE would make each pay ~1 s of CPU.
unexport PYTHONDONTWRITEBYTECODE
# `make test BROWSER=skip` never installs Chromium (the inspector's browser test is then skipped, loudly).
BROWSER ?= auto

.PHONY: serve test install install-serve lock lint typecheck unit bench bench-quick browser screenshot settings-table clean

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/python: | $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) venv --quiet --python $(PYTHON) $(VENV)

# What serving needs: fakeapollo with its extras, no development tools (added to, never removed).
install-serve: $(BIN)/python
	@echo "Installing fakeapollo (what serving needs) into $(VENV) from $(LOCK_SERVE) ..."
	$(UV_PIP) install --python $(BIN)/python --require-hashes -r $(LOCK_SERVE)
	$(UV_PIP) install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .

# Everything: fakeapollo, its extras and the development toolchain, exactly as requirements/dev.txt says.
# Bytecode is compiled here, once and on every core: otherwise the four test workers, starting
# together, each compile every module they import (about 34 CPU-s of a fresh clone's `make test`).
install: $(BIN)/python
	$(UV_PIP) sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(LOCK_DEV)
	$(UV_PIP) install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q -j 0 mock_server contract_tests >/dev/null

serve: install-serve
	$(BIN)/fakeapollo serve --host $(HOST) --port $(PORT)

test: install browser
	$(BIN)/ruff check .
	@# mypy checks while the tests run (its ~9 s from a fresh clone overlap them); either failing fails.
	$(BIN)/mypy & mypy=$$!; \
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal --durations=15; tests=$$?; \
	wait $$mypy || exit 1; exit $$tests

# Resolve every dependency again at its newest allowed version and rewrite both lock files; then
# `make test` and commit them together.
lock: $(UV)
	$(COMPILE) --group pyproject.toml:dev --upgrade -o $(LOCK_DEV)
	$(COMPILE) --constraint $(LOCK_DEV) --upgrade -o $(LOCK_SERVE)

# The inspector page's test drives Debian's chromium through chromium-driver. As root with apt-get
# (CI, a fresh container) they are installed here; anywhere else a warning says the test will be skipped.
browser:
	@BROWSER=$(BROWSER) sh tests/install-browser.sh

# Retake docs/inspector.png (the README's screenshot) with the browser test.
screenshot: install browser
	FAKEAPOLLO_SCREENSHOT=docs/inspector.png $(BIN)/python -m pytest -q tests/test_inspector_browser.py

# Rewrite the settings table of docs/configuration.md from Config (a test checks they agree).
settings-table: install
	$(BIN)/python -c 'from mock_server.config import update_settings_table as u; u("docs/configuration.md")'

unit: install
	$(BIN)/python -m pytest -q -x -n $(WORKERS) --dist worksteal

bench: install
	$(BIN)/python bench/run.py

# Under a minute: in-process µs per request, one process's requests/s and its CPU a request, against
# BEFORE (a commit, HEAD~1 by default) checked out in a temporary worktree:
# `make bench-quick BEFORE=0b4d4ee`.
BEFORE ?= HEAD~1
bench-quick: install
	$(BIN)/python bench/quick.py --before $(BEFORE)

clean:
	rm -rf $(VENV) $(UV_HOME) build dist
