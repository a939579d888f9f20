# FieldOps developer commands. Each target sets up .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATA_DIR ?= $(CURDIR)/.demo-data
PYTEST_ARGS ?=

.PHONY: run test bench lint format screenshot clean

$(STAMP): pyproject.toml tools/system-deps.sh
	@bash tools/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/fieldops --data-dir "$(DATA_DIR)" demo-seed
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ] && [ -z "$${QT_QPA_PLATFORM:-}" ]; then \
	  echo "No display found: starting FieldOps on a virtual screen (xvfb-run)."; \
	  xvfb-run -a $(BIN)/fieldops --data-dir "$(DATA_DIR)"; \
	else $(BIN)/fieldops --data-dir "$(DATA_DIR)"; fi

test: $(STAMP)
	dbus-run-session -- bash tools/test-session.sh $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

screenshot: $(STAMP)
	xvfb-run -a $(BIN)/python tools/screenshot.py docs/main-window.png

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
