# Two commands: `make run` serves the scorecard on the demo store, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: install run test bench bench-clickhouse bench-first-numbers bench-slices bench-formats backtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/scorecard serve --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py

bench-clickhouse: install  # chDB beside DuckDB at 5M and 50M events
	$(BIN)/python bench/clickhouse.py

bench-first-numbers: install  # sign-in to numbers, and the first scorecard after an upload
	$(BIN)/python bench/first_numbers.py

bench-formats: install  # ingest of Parquet, CSV and JSON Lines against DuckDB's own reads
	$(BIN)/python bench/formats.py --sizes 1m,5m

bench-slices: install  # metrics per customer and release, compare, the slice table's paint
	$(BIN)/python bench/slices.py

# The estimated success rate against NannyML's CBPE on its car-loan data (bench/ESTIMATE_BACKTEST.md)
BACKTEST := .venv-backtest
$(BACKTEST)/.installed: bench/backtest/requirements.txt
	$(PYTHON) -m venv $(BACKTEST)
	$(BACKTEST)/bin/python -m pip install --quiet -r bench/backtest/requirements.txt
	touch $@

backtest: install $(BACKTEST)/.installed
	$(BACKTEST)/bin/python bench/backtest/nannyml_side.py var/backtest
	$(BIN)/python bench/backtest/estimate_backtest.py var/backtest

clean:
	rm -rf $(VENV) $(BACKTEST) var .pytest_cache
