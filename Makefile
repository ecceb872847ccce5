# WorkPro: `make run` starts the demo, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-custom-user bench load cluster lighthouse install messages check check-security host-check clean

$(VENV)/.installed: pyproject.toml
	@echo "==> [1/3] Python environment in $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The distribution was called "workpro" before 0.2.0 and also installed home/ and workpro_site/.
	-$(PY) -m pip uninstall --quiet --yes workpro 2>/dev/null
	@echo "==> [2/3] Installing WorkPro with Wagtail, Django and the test tools (a few minutes the first time)"
	@# The plugin, the site-level packages of the demo project ([site]) and the test tools ([test]).
	@# No --quiet: pip shows each package it collects and installs, so the first run shows progress.
	$(PY) -m pip install --progress-bar on -e '.[site,test]'
	@echo "==> [3/3] Installed."
	touch $@

install: $(VENV)/.installed

# axe-core for the accessibility checks of the browser tests (no CDN); skipped without npm.
node_modules/.installed: package.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --no-audit --no-fund --silent && touch $@ \
	  || echo "npm install failed: the accessibility checks of the browser tests will be skipped"; \
	else echo "npm not found: the accessibility checks of the browser tests will be skipped"; fi

# Sets up the SQLite demo and runs the web server and the django-q2 cluster together.
# Ctrl-C stops both within a few seconds (scripts/run_together.py; tests/reliability/test_run_together.py).
run: install
	@echo "==> Database (SQLite): applying migrations"
	$(PY) manage.py migrate --noinput
	@echo "==> Demo data (idempotent: running it again changes nothing you changed in the UI)"
	$(PY) manage.py workpro_demo --port $(PORT)
	@echo "==> Web server on http://$(HOST):$(PORT)/ and task cluster; Ctrl-C stops both"
	$(PY) scripts/run_together.py -- $(PY) manage.py qcluster -- $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite on SQLite; with DATABASE_URL=postgres://... on PostgreSQL.
# Browser tests run when /usr/bin/chromium exists; otherwise the summary says they were skipped.
test: install node_modules/.installed
	$(PY) -m pytest -n auto

# Registration, logins, password requests and participant logins again, with a host's custom user
# model whose USERNAME_FIELD is `email` (tests/custom_user/); its own settings and test database.
CUSTOM_USER_TESTS := tests/portal/test_login_field.py tests/portal/test_accounts.py \
	tests/portal/test_views_contact_data.py tests/portal/test_minors.py
test-custom-user: install
	DJANGO_SETTINGS_MODULE=tests.custom_user.settings $(PY) -m pytest -p no:cacheprovider -n 2 $(CUSTOM_USER_TESTS)

bench: install
	$(PY) bench/run.py

# gunicorn on 127.0.0.1 against a throw-away SQLite demo; ~20 s per URL (LOAD_SECONDS).
load: install
	$(PY) bench/load.py

# Several machines on this one, without containers: nginx (TLS, X-Accel-Redirect), two gunicorns,
# two qclusters, PostgreSQL (database workpro_cluster, recreated), Redis (db 8, flushed), moto's S3
# server; a bounded load run across both instances, then checks printed as PASS/FAIL (bench/cluster.py).
cluster: install
	$(PY) bench/cluster.py
# Lighthouse 12 (npx, npm's cache; not needed by `make test`) in headless Chromium on the demo's public
# pages of two sites, mobile and desktop, against gunicorn with DEBUG off: prints the scores
# (SEO, best practices, accessibility, performance); exit 1 below SEO or best practices 100.
lighthouse: install
	$(PY) bench/lighthouse.py

messages: install
	$(PY) scripts/i18n.py

check: install
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# Hardening: CSP, security headers, cookies, 2FA, audit log, `check --deploy`, the permission matrix,
# bad input (hypothesis on every form, upload attacks, CSRF, open redirects, mail headers), the
# client address behind reverse proxies, admin lists that accept only declared parameters, every login
# path and identity change, per-account limits, data protection (staff exports scoped to their
# institutions, registration with known addresses, retention of login records, sessions and outbox
# secrets, stable Message-IDs), formulas in exports, fee schedules and page rights across institutions,
# with the figures they measured at the end.
check-security: install
	$(PY) -m pytest -n 0 -s -p tests.security_report tests/security/

# The built wheel in a fresh `wagtail start` site configured only by the README's install section:
# check --deploy, makemigrations --check, migrate, then a smoke journey in Chromium (.ci/host_site).
host-check: install
	.ci/host_site

clean:
	rm -rf $(VENV) node_modules db.sqlite3* media private_media staticfiles test-artifacts .pytest_cache
