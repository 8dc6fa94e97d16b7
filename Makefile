# The README's two set-up commands: `make demo` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test test-unit lint bench clean

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

# The pure tests (no agent, no server, no subprocess): seconds, for the edit-test loop. `make test` runs everything.
UNIT_TESTS = $(addprefix tests/test_,state.py counters.py availability.py alerting_rules.py alerting_engine.py \
	layout.py logs.py maintenance.py readings.py metrics.py config.py alerting_settings.py controller.py)
test-unit: $(BIN)/wifimon
	$(BIN)/pytest -q -p no:cacheprovider -m "not integration and not e2e" $(UNIT_TESTS)

# Style and types: ruff on everything, mypy strict on the product (settings in pyproject.toml).
lint: $(BIN)/wifimon
	$(BIN)/ruff check monitor collectors simulator tests bench
	$(BIN)/mypy

bench: $(BIN)/wifimon
	$(BIN)/python bench/rounds.py

clean:
	rm -rf $(VENV) var .pytest_cache
