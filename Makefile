# mme-audit: `make demo` and `make test` set up .venv from scratch and run.
# torch is installed first and pinned to the CPU build that lies on this machine's disk:
# a bare `torch` requirement resolved with no torch present pulls a multi-GB CUDA build.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION ?= 2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint format bench screenshots report-screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet torch==$(TORCH_VERSION)
	$(PIP) install --quiet -e '.[dev,ray,google]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/audit run --suite bias

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache  # layer contracts: pyproject.toml [tool.importlinter]
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) bench/embed_overhead.py

# Needs Debian chromium + chromium-driver (apt-get install -y chromium chromium-driver).
screenshots: setup
	$(PY) -m dashboard.screenshots --out docs/img

# The audit report of one run in Chromium: no request leaves the file, no console error;
# PNGs of page one and each section. Usage: make report-screenshots RUN=runs/<run-id>
report-screenshots: setup
	$(PY) -m dashboard.report_screenshots $(RUN) --out docs/img/report

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
