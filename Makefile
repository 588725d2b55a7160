# Patronage: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install demo test lint bench bench-analytics bayes-env soak load migration clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# browser tests drive Debian's Chromium (make test runs them)
	test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver fonts-noto-cjk; }
	touch $(STAMP)

demo: install
	$(BIN)/patronage demo --members 500
	$(BIN)/patronage serve

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	# the API load comes from wrk (C), as pgbench's does
	command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	$(BIN)/python bench/ledger_bench.py $(BENCH_ARGS)

# bench-analytics: Patronage vs lifetimes on 1,000,000 customers (~10M transactions).
# lifetimes 0.11.3 needs old numpy/pandas, so it gets its own venv. Quick run:
#   make bench-analytics BENCH_ARGS='--customers 50000'
LIFETIMES_VENV := bench/.venv-lifetimes
BENCH_ARGS ?=

bench-analytics: install $(LIFETIMES_VENV)/.installed
	$(BIN)/python bench/analytics_bench.py --lifetimes-python $(LIFETIMES_VENV)/bin/python $(BENCH_ARGS)

$(LIFETIMES_VENV)/.installed:
	$(PYTHON) -m venv $(LIFETIMES_VENV)
	$(LIFETIMES_VENV)/bin/python -m pip install --quiet 'lifetimes==0.11.3' 'numpy==1.26.4' \
		'pandas==1.5.3' 'scipy==1.10.1' 'pyarrow==14.0.2' 'autograd==1.6.2'
	touch $@

# bayes-env: a Python 3.12 venv with pymc-marketing for `analytics clv --bayes`
# (the project venv may be 3.11); the test session builds it when missing.
BAYES_VENV := .venv-bayes
BAYES_PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12*/bin/python3.12) python3.12)

bayes-env: $(BAYES_VENV)/.installed

$(BAYES_VENV)/.installed: pyproject.toml
	test -x $(BAYES_VENV)/bin/python || $(BAYES_PYTHON) -m venv $(BAYES_VENV)
	$(BAYES_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BAYES_VENV)/bin/python -m pip install --quiet -e '.[bayes]'
	touch $@

soak: install
	cd bench && ../$(BIN)/python soak.py $(SOAK_ARGS)

load: install
	command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	cd bench && ../$(BIN)/python load_test.py $(LOAD_ARGS)

migration: install
	$(BIN)/python -m patronage.storage.regenerate_migration
	$(BIN)/ruff check -q --fix src/patronage/migrations/versions
	$(BIN)/ruff format -q src/patronage/migrations/versions

clean:
	rm -rf $(VENV) patronage.db patronage.db-wal patronage.db-shm
