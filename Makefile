# moodcast: the pipeline, one target per stage. `make run` does it all on the embedded data.
# State lives in $MOODCAST_HOME (default: warehouse/ here); every stage honours it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SEED_DATA := data/data_moods.csv

INGEST := $(BIN)/python -m ingest files $(SEED_DATA)
BUILD := $(BIN)/python -m moodcast.build
TRAIN := $(BIN)/python -m train $(TRAIN_ARGS)
SCORE := $(BIN)/python -m score
# `make bench BENCH_ROWS=1000000` for a quicker run; it never touches $(MOODCAST_HOME).
BENCH_ROWS ?= 10000000

.PHONY: run install ingest build train score docs test bench

run: $(INSTALLED)
	$(INGEST)
	$(BUILD)
	$(TRAIN)
	$(SCORE)

install: $(INSTALLED)

# Reinstalls only when pyproject.toml changes, so a second `make run` starts at once.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

ingest: $(INSTALLED)
	$(INGEST)

build: $(INSTALLED)
	$(BUILD)

train: $(INSTALLED)
	$(TRAIN)

score: $(INSTALLED)
	$(SCORE)

# dbt's documentation of everything analysts read, in $(MOODCAST_HOME)/dbt/target (`dbt docs serve` shows it).
docs: $(INSTALLED)
	$(BIN)/python -m moodcast.docs

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Score a synthetic catalog of BENCH_ROWS tracks in a warehouse of its own; writes bench/results-<date>.json.
bench: $(INSTALLED)
	$(BIN)/python -m bench --rows $(BENCH_ROWS)
