# Every target sets up what it needs first (idempotently), so each works on a fresh machine.
VENV    ?= .venv
BIN     := $(VENV)/bin
EXAMPLES := src/voice2face/assets/examples

.PHONY: run serve test test-fast test-all lint bench setup setup-dev clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: setup  ## the main job on the built-in default: portraits of the four documented example voices, bundled model
	$(BIN)/voice2face portrait $(EXAMPLES)/synthvox-*.wav -o out/portraits --samples 4

serve: setup-dev  ## the web service and its page on http://127.0.0.1:8000/ with the bundled model (Ctrl-C stops)
	$(BIN)/voice2face serve

test: setup-dev  ## the test suite without the tests marked slow (pytest -m "not slow"): about 5 minutes, what CI runs
	scripts/run-tests.sh -m "not slow"

test-fast: test  ## the same as make test (its earlier name)

test-all: setup-dev  ## the whole test suite, slow end-to-end tests included (the bundled model's re-measure, the demo)
	scripts/run-tests.sh

lint: setup-dev  ## ruff over the code, tests and benchmarks
	$(BIN)/ruff check src tests benchmarks scripts

bench: setup-dev  ## the benchmarks, one JSON line each
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_models.py
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_synthvox.py
	$(BIN)/python benchmarks/bench_inference.py
	$(BIN)/python benchmarks/bench_train.py

setup:  ## create .venv with torch 2.13.0 (CPU) and voice2face
	scripts/setup-env.sh

setup-dev:  ## as setup, plus the test and benchmark peers
	scripts/setup-env.sh dev

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
