# The README's commands. Everything a fresh clone needs is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
export FLASK_APP := wsgi
# `make run PORT=8080` serves on another port; mail links follow unless PUBLIC_BASE_URL is set.
PORT   ?= 5000

.PHONY: run install install-test constraints translations translations-compile db demo reindex test test-sqlite test-pg browser-deps bench load load-deps lint clean probe api-contract

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# constraints.txt pins every package, test tools included, to the versions the suite last passed
# with; `make constraints` writes it again from the test virtualenv after a dependency changes.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

constraints: install-test
	$(BIN)/pip freeze --exclude-editable | grep -v '^portal' > constraints.txt

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

translations-compile: install
	$(BIN)/pybabel -q compile -f -d translations

## Extract every string, update both catalogs, compile.
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".* __pycache__ instance node_modules" -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -f -d translations

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo --if-empty

reindex: install
	$(FLASK) reindex

## Development server on 127.0.0.1:$(PORT); the outbox page /accounts/dev/outbox is on (no SMTP).
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: export MAIL_OUTBOX_PAGE ?= 1
run: translations-compile demo reindex
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) to run the browser tests"; fi; \
	fi

## Both cores for the tests without a browser (pytest-xdist, a database per worker; on PostgreSQL
## <name>_gw0 and <name>_gw1 beside TEST_DATABASE_URL's); the browser tests one at a time (on two
## workers they took 80–110 s instead of 124 s, but the enterprise journey missed its wait once),
## collected from tests/browser only, where all of them are.
TEST_WORKERS ?= 2
# Keep the bytecode of the code under test and of pytest's rewritten plugins between processes
# (some machines set PYTHONDONTWRITEBYTECODE, which made every worker compile them again).
test probe api-contract bench: export PYTHONDONTWRITEBYTECODE =

test: install-test translations-compile browser-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"
	$(BIN)/python -m pytest -m browser tests/browser
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  PORTAL_TEST_DB=postgresql $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"; \
	fi

## Fuzz every route and form (tests/security/test_fuzz.py) with the big profile: >10,000 requests
## per database; prints the request count and the 5xx count. FUZZ_EXAMPLES sets examples per role.
probe: install-test translations-compile
	FUZZ_PROFILE=probe $(BIN)/python -m pytest tests/security/test_fuzz.py
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  FUZZ_PROFILE=probe PORTAL_TEST_DB=postgresql $(BIN)/python -m pytest tests/security/test_fuzz.py; \
	fi

## schemathesis against the OpenAPI document with 100 examples per operation and mode (the
## default suite runs 8); API_CONTRACT_EXAMPLES=N for more.
api-contract: install-test translations-compile
	API_CONTRACT_PROFILE=full $(BIN)/python -m pytest -n $(TEST_WORKERS) tests/opendata/test_contract.py

bench: install-test translations-compile
	$(BIN)/python -m bench.run

## wrk, the HTTP load generator `make load` drives (Debian package).
load-deps:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else echo "Install Debian's wrk (sudo apt-get install wrk) to run the load test"; exit 1; fi; \
	fi

## LOAD_USERS (200) simultaneous anonymous users for LOAD_SECONDS (60) against gunicorn over
## loopback, on the `flask demo --scale LOAD_SCALE` (100000) data set, for each of LOAD_DATABASES
## (sqlite,postgresql; PostgreSQL at LOAD_PG_URL). Writes bench/load-results.json and .md.
load: export PYTHONDONTWRITEBYTECODE =
load: install-test translations-compile load-deps
	$(BIN)/python -m bench.load

lint: install-test
	$(BIN)/ruff check portal demo tests bench
	$(BIN)/ruff format --check portal demo tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance
