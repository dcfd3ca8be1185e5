# edgekit — the two commands a newcomer runs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEKIT := $(VENV)/bin/edgekit
STAMP := $(VENV)/.edgekit-installed
# Extras installed for development and CI: vendor toolchains that pip can install here, and timm sources.
EXTRAS ?= dev,openvino,ncnn,timm,fleet

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

# Re-installs only when pyproject.toml or this file changes, so `make test` is quick once set up.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: setup
	$(EDGEKIT) recommend --ram 512MB --fps 30

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check edgekit tests benchmarks
	$(VENV)/bin/ruff format --check edgekit tests benchmarks

# Regenerates benchmarks/results/ (about 20 minutes on 2 cores; run it on a quiet host).
bench: setup
	$(PY) benchmarks/host_comparison.py
	$(PY) benchmarks/bench_repeatability.py
	$(PY) benchmarks/variants.py
	$(PY) benchmarks/targets_verification.py --threads 2 --rounds 3
	$(PY) benchmarks/predictor_validation.py
	$(PY) benchmarks/memory_check.py
	$(PY) benchmarks/fuzz_loaders.py
	$(PY) benchmarks/real_weights.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
