# The README's two set-up commands: `make demo` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test test-unit lint bench clean lock lock-check wheels image-test

$(BIN)/wifimon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

# The simulated Gunsan fleet (388 APs on loopback) and the monitor on the embedded defaults (SQLite).
demo: $(BIN)/wifimon
	$(BIN)/wifimon demo config/demo/wifimon.yaml

# Two workers, a test file each at a time (a file's tests share its fixtures and may depend on their order);
# the longest files start first (tests/conftest.py; xdist would otherwise order the files by their number of
# tests, and the 5-minute soak, one test, would start last).
test: $(BIN)/wifimon
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder

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

# --- The Docker image (README, "The Docker image") ---------------------------------------------------------
# requirements.lock pins, with hashes, everything the image installs. `make lock` re-resolves pyproject's
# dependencies keeping the current pins where they still fit (LOCK_FLAGS=--upgrade to move them all).
UV_VERSION ?= 0.13.8
TOOLS       = build/tools
LOCK_FLAGS ?=
# The image's Python and platform: CPython 3.11 on x86-64 glibc 2.36 (Debian bookworm, both bases); any
# manylinux wheel from glibc 2.17 up to it will do, newest first.
WHEEL_TAGS  = --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
              $(foreach n,36 35 34 33 32 31 30 29 28 27 26 25 24 23 22 21 20 19 18 17,--platform manylinux_2_$(n)_x86_64) \
              --platform manylinux2014_x86_64

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)

lock: $(TOOLS)/bin/uv
	$(TOOLS)/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) --quiet --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --custom-compile-command "make lock" -o requirements.lock

# Fails when pyproject's dependencies and requirements.lock disagree (also part of `make test`).
lock-check: $(BIN)/wifimon
	$(BIN)/pytest -q -p no:cacheprovider tests/test_lock.py

# build/wheels: what the Dockerfile installs with --no-index: the locked wheels (hash-checked) and, in app/,
# wifimon's, dated by the last commit (the same sources give the same wheel, and the build's cache holds).
wheels: $(BIN)/wifimon requirements.lock
	rm -rf build/wheels
	$(BIN)/pip download -q --disable-pip-version-check --require-hashes $(WHEEL_TAGS) -d build/wheels -r requirements.lock
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
	  $(BIN)/pip wheel -q --disable-pip-version-check --no-deps -w build/wheels/app .

# Builds the image on a debootstrap base and runs it against the simulator (tests/image/run.sh says how).
image-test: wheels
	tests/image/run.sh
