# Two commands: `make run` and `make test`. Everything else is here for developers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ARGS ?=

.PHONY: run test bench lint system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(PY) server.py --demo --log-format text $(ARGS)

system-deps:
	@bash tools/system-deps.sh

test: $(TEST_STAMP) system-deps
	$(PY) -m pytest $(ARGS)

bench: $(TEST_STAMP) system-deps
	$(PY) -m bench $(ARGS)

# Every package and top-level module (their options are in setup.cfg's [mypy]).
MYPY_PATHS := bank routing desk store bus handlers wechat bench server.py kefu_config.py kefu_logging.py kefu_json.py

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(MYPY_PATHS)

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
