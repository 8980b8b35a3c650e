# V-Chat backend. `make dev` runs the whole backend locally; `make test` runs every test against
# its own freshly started stack. Both set up what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev-txt
# checkov lives in a virtualenv of its own: its pins clash with dev.txt (requirements/checkov.txt).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-checkov-txt
# The demo user for `make token` and the Discord targets: `make token USER=bob`. The shell's own $USER
# (root, a login name) is not a demo user, so only a USER given to make (or the default) counts.
ifneq ($(origin USER),command line)
USER := alice
endif

.PHONY: dev test check checkov lint format package token bench setup clean lock restore-drill discord-commands discord-interaction discord-token dev-tools test-tools

# What the stack installs besides the virtualenvs (devstack/installs.py, each once per lock file).
# It needs only the system Python, so make runs it side by side with pip: on a fresh machine the
# npm installs take longer than the virtualenvs (firebase-tools alone about 1.5 minutes).
DEV_TOOLS := redis-server firebase-tools examples/web
TEST_TOOLS := $(DEV_TOOLS) clients/web examples/web/e2e chromium

$(STAMP): requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@cp requirements/dev.txt $(STAMP)

setup: $(STAMP)

$(CHECKOV_STAMP): requirements/checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	@cp requirements/checkov.txt $(CHECKOV_STAMP)

dev-tools:
	@$(PYTHON) -m devstack.installs $(DEV_TOOLS)

test-tools:
	@$(PYTHON) -m devstack.installs $(TEST_TOOLS)

dev:
	@$(MAKE) --no-print-directory -j 2 setup dev-tools
	$(PY) -m devstack up

test:
	@$(MAKE) --no-print-directory -j 3 setup $(CHECKOV_STAMP) test-tools
	$(PY) -m pytest tests

# Terraform security checks (tests/test_checkov.py runs the same and wants 0 failed).
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --skip-download --compact --quiet

# Dump the database, restore it into a fresh cluster, compare every table (docs/operations.md).
# Without arguments it seeds a private cluster of its own; DRILL_ARGS="--port 54329" drills the
# running `make dev` database.
restore-drill: setup
	$(PY) -m devstack.restore_drill $(DRILL_ARGS)

check: setup
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy shared devstack deploy standins bench realtime
	@# Every function has its own main.py: check each folder on its own.
	@for dir in functions/*/; do $(PY) -m mypy --no-error-summary $$dir || exit 1; done

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

package: setup
	$(PY) -m deploy package

token: setup
	@$(PY) -m devstack token $(USER)

# Register the slash commands (shared/discord/commands.py): production with DISCORD_BOT_TOKEN,
# DISCORD_APPLICATION_ID and DISCORD_GUILD_ID set, otherwise the running `make dev` stand-in.
discord-commands: setup
	$(PY) -m deploy.discord_commands

# Play Discord locally: make discord-interaction USER=alice CMD='/invite tag:ゲーム instance_type:friend max_participants:8'
CMD ?= /invites
discord-interaction: setup
	@$(PY) -m standins.discord send --user $(USER) $(if $(MESSAGE),--message $(MESSAGE)) "$(CMD)"

# An ID token of a demo member signed in with Discord (stand-in OAuth -> discord_auth -> Auth emulator).
discord-token: setup
	@$(PY) -m standins.discord token $(USER)

# All benchmarks, or a selection: make bench BENCH="cold_import cascade"
bench: setup
	$(PY) bench/run_all.py $(BENCH)

lock: setup
	$(PY) -m pip freeze --exclude-editable | sed '1i # Pinned with `pip freeze` from requirements/dev.in; regenerate with `make lock`.' > requirements/dev.txt

clean:
	rm -rf build .dev/test-*
