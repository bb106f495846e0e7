# Two commands on a fresh machine with only python3 and make:
#   make demo   - set up and run the demo (no API key needed)
#   make test   - set up and run the whole suite on asyncio and trio
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint typecheck clean system-deps unasync

# On Debian, `python3 -m venv` needs python3-venv: system-deps.sh venv installs it if missing.
$(STAMP): pyproject.toml
	PYTHON=$(PYTHON) bash scripts/system-deps.sh venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,dev,relay,relay-test]'
	touch $(STAMP)

# Debian's python3-venv, redis-server, chromium and fonts-liberation (skips what is there).
system-deps:
	PYTHON=$(PYTHON) bash scripts/system-deps.sh

demo: $(STAMP)
	$(PY) examples/demo.py $(if $(ANTHROPIC_API_KEY),--live,)

# system-deps first: on a bare Debian it brings python3-venv, which the venv needs.
test: system-deps $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/ops.py
	$(PY) benchmarks/relay.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples scripts
	$(VENV)/bin/ruff format --check src tests benchmarks examples scripts
	$(VENV)/bin/mypy

# Regenerate the synchronous client (src/sluice/_sync/) and its tests from the async code.
unasync: $(STAMP)
	$(PY) scripts/unasync.py

clean:
	rm -rf $(VENV)
