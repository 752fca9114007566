# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Demo parameters (override: make demo DEMO_SCOPE=3204 DEMO_RECORDS=50000)
DEMO_SCOPE   ?= 32
DEMO_YEARS   ?= 2024,2025
DEMO_RECORDS ?= 60000
DEMO_DIR     ?= data/demo

.PHONY: demo test test-slow bench install validate-defs dev clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cei demo --scope $(DEMO_SCOPE) --years $(DEMO_YEARS) --records-per-year $(DEMO_RECORDS) --dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/dq.py

validate-defs: $(STAMP)
	mkdir -p .dagster_home && cp dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster definitions validate -m pipelines.definitions

dev: $(STAMP)
	mkdir -p .dagster_home && cp dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -m pipelines.definitions

clean:
	rm -rf data/demo .dagster_home
