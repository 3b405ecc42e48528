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

SPARK_INSTALLED := $(VENV)/.spark-installed
JAVA := $(if $(JAVA_HOME),$(JAVA_HOME)/bin/java,java)

.PHONY: run install ingest build train score docs test bench test-spark bench-spark java-17

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

# The spark extra (pyspark builds from source: ~490 MB, a few minutes, once).
$(SPARK_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@

java-17:
	@version=$$($(JAVA) -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -1); \
	if [ -z "$$version" ] || [ "$$version" -lt 17 ]; then \
		echo "Spark needs Java 17 or later; found: $${version:-no java}. Install one (e.g." \
			"apt-get install openjdk-17-jre-headless) or point JAVA_HOME at it." >&2; exit 1; fi

# The Spark tests (tests/spark, which `make test` leaves out), in local[2] with one shared session.
test-spark: $(SPARK_INSTALLED) java-17
	$(BIN)/python -m pytest tests/spark $(PYTEST_ARGS)

# `python -m score spark` against `python -m score --catalog` on one synthetic catalog; writes bench/spark-results-<date>.json.
bench-spark: $(SPARK_INSTALLED) java-17
	$(BIN)/python -m bench spark --rows $(BENCH_ROWS)
