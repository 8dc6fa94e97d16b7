# The README's two set-up commands: `make demo` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/wifimon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

# The simulated Gunsan fleet (388 APs on loopback) and the monitor on the embedded defaults (SQLite).
demo: $(BIN)/wifimon
	$(BIN)/wifimon demo config/demo/wifimon.yaml

test: $(BIN)/wifimon
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(BIN)/wifimon
	$(BIN)/ruff check monitor collectors simulator tests

bench: $(BIN)/wifimon
	$(BIN)/python bench/rounds.py

clean:
	rm -rf $(VENV) var .pytest_cache
