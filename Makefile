# Quire: two commands on a fresh machine (Python 3.11 + Debian):
#   make demo   set everything up, build the sample warehouse, render every report to HTML and PDF
#   make test   set everything up and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup setup-test system system-test demo test lab bench clean

# The virtualenv is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The demo needs Chromium (it prints the PDFs), Pango and fonts; the tests also need poppler, PostgreSQL and npm.
system:
	bash .ci/system-packages.sh demo

system-test:
	bash .ci/system-packages.sh test

# axe-core for the accessibility checks of the browser tests (npm registry; test-only, git-ignored).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

setup: system $(STAMP)

setup-test: system-test $(STAMP) $(AXE)

demo: setup
	$(BIN)/quire validate
	$(BIN)/quire warehouse build --scale demo
	$(BIN)/quire run --all
	@echo "Rendered reports are under $(CURDIR)/outputs/ (open the report.html or report.pdf of each run)."
	@# The warm service the run left warms up once it has ended (~8 s): ready, the next quire run starts at once.
	$(BIN)/quire warm --wait

# One pytest worker per core the suite may use, and one more (.ci/pytest_workers.py says why and
# how many at most). A test file stays on one worker, so the fixtures its tests share (rendered
# reports, servers) are made once.
TEST_WORKERS ?= $(shell python3 .ci/pytest_workers.py)
test: setup-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# JupyterLab on notebooks/, in the project's environment, against the demo warehouse.
# Jupyter refuses to run as root (containers) unless told so.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

bench: setup
	$(BIN)/python bench/run_vs_naive.py

clean:
	rm -rf $(VENV) outputs/.quire outputs/_failed
