# The front door: `make run` starts the system, `make test` runs the whole suite.
# Both work on a fresh machine with only Python 3.11+ and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432

.PHONY: install run test test-postgres lint format clean bench bench-license

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/market dev-setup
	@echo
	@echo "  catalog  http://127.0.0.1:8001/docs   (ReDoc: /redoc)"
	@echo "  review   http://127.0.0.1:8002/docs"
	@echo "  orders   http://127.0.0.1:8003/docs"
	@echo "  license  http://127.0.0.1:8004/docs"
	@echo
	@echo "  Stop with Ctrl-C."
	@echo
	@# Ctrl-C stops every service; honcho then exits 130, which is no error here.
	$(BIN)/honcho start -f Procfile || test $$? -eq 130

test: install
	$(BIN)/pytest

# The same suite against PostgreSQL (CI runs both). Databases are created by the tests.
test-postgres: install
	MARKET_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services shared harness bench tests
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Not a test: the four services as processes on SQLite, then on PostgreSQL ($(PG_URL)), loaded
# from a separate process; prints a table and writes bench-results/bench.json.
bench: install
	PG_URL=$(PG_URL) $(BIN)/python bench/system_bench.py

# Not a test: verify rates and entitlement throughput against /healthz on a real server.
bench-license: install
	$(BIN)/python bench/license_bench.py
