# Fresh-machine entry points (README): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test unit lint stack-up stack-down bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsflow demo $(DEMO_ARGS)

test: $(STAMP) lint
	$(BIN)/newsflow stack up
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy

stack-up: $(STAMP)
	$(BIN)/newsflow stack up

stack-down: $(STAMP)
	$(BIN)/newsflow stack down

clean:
	rm -rf $(VENV) .pytest_cache
