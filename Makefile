# WorkPro: `make run` starts the demo, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench load install messages check clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Sets up the SQLite demo and runs the web server and the django-q2 cluster together.
# Ctrl-C stops both.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py workpro_demo --port $(PORT)
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver $(HOST):$(PORT) & \
	wait

# The whole suite on SQLite; with DATABASE_URL=postgres://... on PostgreSQL.
test: install
	$(PY) -m pytest -n auto

bench: install
	$(PY) bench/run.py

# gunicorn on 127.0.0.1 against a throw-away SQLite demo; ~20 s per URL (LOAD_SECONDS).
load: install
	$(PY) bench/load.py

messages: install
	$(PY) scripts/i18n.py

check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

clean:
	rm -rf $(VENV) db.sqlite3* media private_media staticfiles test-artifacts .pytest_cache
