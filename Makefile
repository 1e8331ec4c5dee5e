# IncidentOps — the two commands are `make run` and `make test` (see README.md).

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PORT    ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint format bench bench-scale clean

help:
	@echo "make run    - install if needed, migrate, load demo data, serve on http://127.0.0.1:$(PORT) with a worker and beat"
	@echo "make test   - install if needed and run the whole test suite"
	@echo "make test-fast - the suite without the browser, worker, alertmanager and slow (whole-demo seed) tests"
	@echo "make lint   - ruff check and format check"
	@echo "make bench  - query-count and load benchmarks"
	@echo "make bench-scale - insights and search over 100,000 incidents (INCIDENTS=...)"

$(PY):
	@python=$$(scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

# Reinstall only when the project's metadata changed.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: export DEBUG ?= true
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/honcho --procfile Procfile start --port $(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The quick suite: everything but the tests that start Chromium, a Celery worker
# or Alertmanager, and the slow ones that seed the whole demo (make test runs all).
test-fast: install
	$(VENV)/bin/pytest -m "not browser and not worker and not alertmanager and not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m benchmarks

INCIDENTS ?= 100000
bench-scale: install
	$(PY) -m benchmarks.scale --incidents $(INCIDENTS)

clean:
	rm -rf $(VENV) var *.egg-info
