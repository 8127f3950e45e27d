PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test test-fast fixtures lint bench calibrate fuzz golden soak clean eval

install: $(BIN)/drift-audit

$(BIN)/drift-audit: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $@

fixtures: install
	$(BIN)/python scripts/make_fixtures.py fixtures/generated

test: install fixtures
	$(BIN)/python -m pytest -q

test-fast: install fixtures
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check drift_audit tests scripts
	$(BIN)/ruff format --check drift_audit tests scripts
	$(BIN)/mypy

clean:
	rm -rf fixtures/generated fixtures/sources .pytest_cache

calibrate: install
	$(BIN)/python scripts/calibrate.py --embedder dlib

bench: install
	$(BIN)/python scripts/bench.py --json .bench/results.json
	$(BIN)/python scripts/bench_throughput.py --json .bench/throughput.json
	$(BIN)/python scripts/memory_check.py

golden: install fixtures
	$(BIN)/python scripts/golden.py --save tests/golden

fuzz: install fixtures
	FUZZ_SEEDS=240 $(BIN)/python -m pytest -q -s tests/test_fuzz.py

soak: install
	$(BIN)/python scripts/soak.py --runs 100

eval: install
	$(BIN)/python scripts/eval.py
