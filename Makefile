# GapLens: `make run` serves the dashboard, `make test` runs the whole test suite.
# Both work on a fresh Debian 12 / Ubuntu machine with Python 3.11+: they create .venv when it is
# missing, install requirements.txt into it (again only when requirements.txt changed), and
# `make test` installs the few Debian packages the tests need. Nothing depends on $HOME.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A copy of the requirements.txt last installed: reinstall when the file's content differs.
STAMP := $(VENV)/.requirements.installed
PORT ?= 8501
# What the tests need from Debian: a browser for end-to-end tests and kaleido exports, a font
# with wide Unicode coverage for figures, pdftoppm to look at exported PDFs, nginx for the test of
# the deployment behind it (deploy/), Java for the Spark parity test (requirements-spark.txt).
APT_PACKAGES := chromium fonts-dejavu-core poppler-utils nginx openjdk-17-jre-headless
# The optional Spark extra, installed for the tests only (the dashboard does not need it).
SPARK_STAMP := $(VENV)/.requirements-spark.installed

# Keep the user's home out of it: no user site-packages, no pip self-check over the network.
export PYTHONNOUSERSITE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help run test venv deps spark-deps apt-deps axe lint pytest docs docs-check sample clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: deps  ## serve the dashboard on http://localhost:8501 (PORT=... to change)
	$(PY) -m streamlit run dashboard.py --server.port $(PORT)

test: deps spark-deps apt-deps axe  ## lint, then the whole test suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

venv: $(PY)  ## create .venv (python3 -m venv; installs python3-venv with apt if needed)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "GapLens needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)" >&2; exit 1; }
	@if ! $(PYTHON) -m venv $(VENV) >/dev/null 2>&1; then \
	  echo "python3 -m venv failed (Debian/Ubuntu ship it separately): installing python3-venv"; \
	  rm -rf $(VENV); \
	  $(MAKE) --no-print-directory apt-deps APT_PACKAGES="python3-venv python$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"; \
	  $(PYTHON) -m venv $(VENV); \
	fi

deps: $(PY)  ## install requirements.txt into .venv when it changed
	@if ! cmp -s requirements.txt $(STAMP); then \
	  echo "installing requirements.txt into $(VENV) (about a minute the first time)"; \
	  $(PY) -m pip install --quiet -r requirements.txt; \
	  cp requirements.txt $(STAMP); \
	fi

spark-deps: deps  ## install requirements-spark.txt (PySpark, for the Spark parity test) into .venv when it changed
	@if ! cmp -s requirements-spark.txt $(SPARK_STAMP); then \
	  echo "installing requirements-spark.txt into $(VENV) (PySpark, about 450 MB the first time; pip's cache after)"; \
	  $(PY) -m pip install --quiet -r requirements-spark.txt; \
	  cp requirements-spark.txt $(SPARK_STAMP); \
	fi

apt-deps:  ## install the Debian packages the tests need, when missing (root, else sudo)
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "no apt-get: install$$missing by hand" >&2; exit 1; fi; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null; then sudo="sudo"; \
	  else echo "need root or sudo to install:$$missing" >&2; exit 1; fi; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

axe: deps  ## fetch axe-core (npm registry, checked by SHA-256) into ~/.cache/gaplens/axe for the accessibility tests
	@command -v npm >/dev/null || $(MAKE) --no-print-directory apt-deps APT_PACKAGES=npm
	$(PY) tools/axe.py

lint: deps  ## ruff, as CI runs it
	$(VENV)/bin/ruff check .

pytest: deps  ## the tests only (no apt step); pass options with ARGS="-k coverage"
	$(PY) -m pytest $(ARGS)

docs: deps  ## regenerate docs/data-model.md, docs/settings.md and the generated README blocks
	$(PY) -m data_layers.docs

docs-check: deps  ## fail when the generated docs are out of date
	$(PY) -m data_layers.docs --check

sample: deps  ## regenerate sample_data/ (deterministic: same content every time)
	$(PY) -m data_layers sample

clean:  ## remove caches (keeps .venv)
	rm -rf .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
