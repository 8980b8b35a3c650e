# V-Chat backend. `make dev` runs the whole backend locally; `make test` runs every test against
# its own freshly started stack. Both set up what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev-txt
USER ?= alice

.PHONY: dev test check lint format package token bench setup clean lock

$(STAMP): requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@cp requirements/dev.txt $(STAMP)

setup: $(STAMP)

dev: setup
	$(PY) -m devstack up

test: setup
	$(PY) -m pytest tests

check: setup
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy shared devstack deploy standins bench
	@# Every function has its own main.py: check each folder on its own.
	@for dir in functions/*/; do $(PY) -m mypy --no-error-summary $$dir || exit 1; done

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

package: setup
	$(PY) -m deploy package

token: setup
	@$(PY) -m devstack token $(USER)

bench: setup
	$(PY) bench/run_all.py

lock: setup
	$(PY) -m pip freeze --exclude-editable | sed '1i # Pinned with `pip freeze` from requirements/dev.in; regenerate with `make lock`.' > requirements/dev.txt

clean:
	rm -rf build .dev/test-*
