# reload-agent: every entry point a developer or CI needs.
#   make demo   the narrated live-reload demo (installs what it needs)
#   make test   every test suite: Python (engine, agent, client, Neovim e2e) and the VS Code extension
#   make vsix   the VS Code extension package, vscode-extension/reload-agent.vsix
#   make bench  benchmarks against the baselines, writes bench/RESULTS.md

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXT    := vscode-extension
# The install stamp follows pyproject.toml: editing dependencies reinstalls, nothing else does.
STAMP  := $(VENV)/.installed
# Debian packages the end-to-end tests drive (a real Neovim; chromium for VS Code). ripgrep, libkrb5-dev and
# build-essential are what installing code-server (VS Code in the browser) needs offline.
APT_PACKAGES ?= neovim chromium ripgrep libkrb5-dev build-essential
PYTEST_ARGS ?=

.PHONY: all install test test-python test-extension test-vscode-e2e vsix system-deps demo bench fuzz soak clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

# apt-get only for what is missing, so a second run is instant and offline.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The extension first: its npm ci is what the README test of `make vsix` needs.
test: test-extension test-python

test-python: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ifneq ($(wildcard $(EXT)/package.json),)
$(EXT)/node_modules/.package-lock.json: $(EXT)/package-lock.json
	cd $(EXT) && (npm ci --no-audit --no-fund || npm ci --no-audit --no-fund)

# Unit, integration (against a real agent from .venv) and end to end in code-server; code-server is installed once
# into $(EXT)/.e2e/ by the npm script.
EXT_DEPS := install system-deps $(EXT)/node_modules/.package-lock.json

test-extension: $(EXT_DEPS)
	cd $(EXT) && PATH="$(CURDIR)/$(BIN):$$PATH" npm test

test-vscode-e2e: $(EXT_DEPS)
	cd $(EXT) && PATH="$(CURDIR)/$(BIN):$$PATH" npm run test:e2e

vsix: $(EXT)/node_modules/.package-lock.json
	cd $(EXT) && npm run vsix
else
test-extension test-vscode-e2e vsix:
	@echo "no VS Code extension yet"
endif

demo: install
	$(BIN)/python examples/demo.py

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Long reliability runs (issue 8; docs/security.md). fuzz: minutes of hostile frames against one
# agent, a JSON summary on stdout (FUZZ_MINUTES, default 8). soak: 10,000 connect/disconnect cycles,
# a 20-client load run 25 rounds long, and 3,000 fuzz examples.
fuzz: install
	$(BIN)/python tests/reliability/fuzz_long.py --minutes $(or $(FUZZ_MINUTES),8)

soak: install
	RELIABILITY_CYCLES=10000 RELIABILITY_LOAD_ROUNDS=25 RELIABILITY_FUZZ_EXAMPLES=3000 \
	  $(BIN)/python -m pytest --timeout=1800 tests/reliability/test_load.py tests/reliability/test_fuzz_protocol.py

clean:
	rm -rf $(VENV) $(EXT)/node_modules $(EXT)/out $(EXT)/dist $(EXT)/.e2e $(EXT)/*.vsix .pytest_cache
