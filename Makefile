# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Demo parameters (override: make demo DEMO_SCOPE=3204 DEMO_RECORDS=50000)
DEMO_SCOPE   ?= 32
DEMO_YEARS   ?= 2024,2025
DEMO_RECORDS ?= 60000

# One environment: `make demo`, `make dev`, `cei` and the Dagster UI use the same warehouse
# (CEI_WAREHOUSE, default data/warehouse.duckdb), landing folder (CEI_LANDING, default data/landing)
# and Dagster instance (DAGSTER_HOME, default .dagster_home, set up from dagster.yaml). The demo
# writes into those defaults, so `cei status`, `cei index` and `make dev` see it with no flags.
# (Exported to those targets only: the test suite builds its own throw-away warehouses and instances.)
CEI_WAREHOUSE ?= data/warehouse.duckdb
CEI_LANDING   ?= data/landing
DAGSTER_HOME  ?= $(CURDIR)/.dagster_home
DEMO_DIR      ?= $(patsubst %/,%,$(dir $(CEI_WAREHOUSE)))
demo dev validate-defs: export CEI_WAREHOUSE := $(CEI_WAREHOUSE)
demo dev validate-defs: export CEI_LANDING := $(CEI_LANDING)
demo dev validate-defs: export DAGSTER_HOME := $(DAGSTER_HOME)

.PHONY: demo test test-slow test-browser mutation bench install validate-defs dev clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# the demo's runs are recorded in DAGSTER_HOME: `make dev` then shows its assets materialised
demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/cei --warehouse $(CEI_WAREHOUSE) demo --scope $(DEMO_SCOPE) --years $(DEMO_YEARS) \
	    --records-per-year $(DEMO_RECORDS) --dir $(DEMO_DIR)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# The headless-Chromium tests alone (the slow layout test included), failing (not skipping) when Chromium is missing:
# apt-get install -y chromium fonts-noto-cjk (.ci/run does it). They are part of `make test` too.
test-browser: $(STAMP)
	CEI_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -m 'not benchmark' tests/test_browser.py tests/test_export_files.py

# Mutation testing (mutmut, config in pyproject.toml [tool.mutmut]) over ingestion/, data_quality/gate.py,
# data_quality/engine.py and index_model/aggregate.py with the tests that guard them; not part of `make test`.
# A subset: make mutation MUTANTS='index_model.aggregate* data_quality.gate*'. Summary: mutants/summary.md.
MUTANTS ?=
# one mutant at a time by default: the machine is shared (MUTMUT_CHILDREN=2 on a quiet one)
MUTMUT_CHILDREN ?= 1
mutation: $(STAMP)
	-$(BIN)/mutmut run --max-children $(MUTMUT_CHILDREN) $(MUTANTS)
	$(BIN)/python tests/mutation_summary.py | tee mutants/summary.md

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/dq.py

validate-defs: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -m pipelines.definitions

# The UI and the daemon (schedules, sensors) on the same warehouse, landing folder and instance as the demo
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m pipelines.definitions

# removes what `make demo` made (the warehouse, its reports, the instance); the landing files stay
clean:
	rm -rf data/demo data/reports .dagster_home mutants $(CEI_WAREHOUSE) $(CEI_WAREHOUSE).wal
