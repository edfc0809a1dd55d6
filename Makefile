# gridgis: `make run` sets everything up and serves http://127.0.0.1:8000/; `make test` runs every test.
# Both are idempotent. DATABASE_URL=postgis://... uses your own PostGIS instead of the local cluster.
SHELL := /bin/bash
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-test system system-browser python assets db stop migrate demo lint bench messages

run: setup
	@echo "==> Serving gridgis at http://$(HOST):$(PORT)/  (Ctrl-C to stop; 'make stop' stops the database)"
	@$(PY) -m uvicorn gridgis.asgi:application --host $(HOST) --port $(PORT) --no-access-log --timeout-graceful-shutdown 5

test: setup-test
	@echo "==> Running the tests against PostGIS"
	@bash scripts/pytest.sh

setup: system python assets db migrate demo
setup-test: system-browser python assets db migrate demo

system:
	@bash scripts/system.sh

system-browser:
	@bash scripts/system.sh --browser

python:
	@bash scripts/python.sh

assets:
	@bash scripts/assets.sh

db:
	@bash scripts/pg.sh start

stop:
	@bash scripts/pg.sh stop

migrate: messages
	@echo "==> Migrating the database"
	@$(PY) manage.py migrate --no-input -v 0

messages:
	@$(PY) manage.py compilemessages -v 0 --ignore=.venv --ignore=node_modules

demo:
	@$(PY) manage.py demo_city --if-empty
	@$(PY) manage.py demo_accounts
	@$(PY) manage.py demo_cases

lint:
	@.venv/bin/ruff check .

bench:
	@$(PY) bench/import_territory.py
