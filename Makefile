# `make run` and `make test` do everything on a fresh clone; see README.md.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/annotator
PYTEST_WORKERS ?= auto

.PHONY: install install-dev run serve test lint format typecheck bench load-test audit clean

# What the app needs to run (requirements.txt); `make run` and `make serve` install only this.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Tests, lint, types, benchmarks and the load test on top (requirements-dev.txt).
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Local development settings, written once and never overwritten: DEBUG=1 and a random key
# marked as a development key (production refuses it). Settings read this file, so the
# README's manage.py commands work in a new shell. Git-ignored; readable by you only.
.env:
	@umask 077; { \
	  echo "# Written by 'make run' for local development; see .env.example for every setting."; \
	  echo "# The environment wins over this file. Production sets its own variables (README.md)."; \
	  echo "DEBUG=1"; \
	  echo "SECRET_KEY=django-insecure-$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	} > $@
	@echo "Wrote $@ (DEBUG=1 and a generated development SECRET_KEY)"

# Development server with the demo corpus; without DATABASE_URL it uses the SQLite file db.sqlite3.
# The background worker runs beside the server so web uploads import while you watch.
run: install .env
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py setup_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the server and the worker)"
	@trap 'kill 0' INT TERM EXIT; \
	DEBUG=1 $(PY) manage.py db_worker --interval 1 >/dev/null 2>&1 & \
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn (gunicorn.conf.py) with DEBUG off, static files collected for WhiteNoise,
# and the background import worker beside it, started again 5 s after it stops for any reason.
# Needs SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; see README.md, "Production". Ctrl-C (or
# SIGTERM to the recipe's shell) stops both: the traps signal the two processes by their ids,
# never the whole process group, which would signal the trapping shell itself again.
serve: install
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (python -c 'import secrets; print(secrets.token_urlsafe(50))'); see README.md, Production" >&2; exit 1; }
	DEBUG=0 $(PY) manage.py check --deploy
	DEBUG=0 $(PY) manage.py migrate --noinput
	DEBUG=0 $(PY) manage.py collectstatic --noinput
	@echo "Serving on http://$${HOST:-127.0.0.1}:$(PORT)/ behind your HTTPS proxy (Ctrl-C stops gunicorn and the worker)"
	@( trap 'kill -TERM $$child 2>/dev/null; wait $$child; exit 0' TERM; \
	  while :; do \
	    DEBUG=0 nice -n 19 $(PY) manage.py db_worker --no-reload & child=$$!; \
	    wait $$child; code=$$?; \
	    echo "make serve: the worker stopped (status $$code); starting it again in 5 s" >&2; \
	    sleep 5 & child=$$!; wait $$child; \
	  done ) & worker=$$!; \
	DEBUG=0 PORT=$(PORT) $(VENV)/bin/gunicorn --config gunicorn.conf.py annotator.wsgi & web=$$!; \
	trap 'trap "" INT TERM; kill -TERM $$web $$worker 2>/dev/null; wait; exit 0' INT TERM; \
	wait $$web; status=$$?; \
	kill -TERM $$worker 2>/dev/null; wait; exit $$status

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Lint, types (mypy, no errors allowed), models and migrations in step (compared without a
# database), then the whole suite (browser tests included) against PostgreSQL. pytest exits 5
# when it collected nothing: that is a failure here, not a pass.
test: lint typecheck
	DATABASE_URL=sqlite://:memory: DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DEBUG=1 $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; failing." >&2; exit 1; fi; \
	exit $$status

# mypy with the Django and DRF plugins (pyproject.toml, [tool.mypy]); `make test` runs it first.
typecheck: install-dev
	DEBUG=1 $(VENV)/bin/mypy

bench: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/run_all.py

# Load test (bench/load/): LOAD_USERS Locust annotators against gunicorn for LOAD_DURATION, in a
# scratch database; LOAD_ARGS=--with-background adds a concurrent import and export. See README.md.
LOAD_USERS ?= 50
LOAD_DURATION ?= 120s
load-test: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/load/run.py --users $(LOAD_USERS) --duration $(LOAD_DURATION) $(LOAD_ARGS)

# Known vulnerabilities in requirements.txt and everything it pulls in: pip-audit first (from a
# virtualenv of its own, so its dependencies stay out of the audited one), then PyPI's advisory
# data for what pip-audit could not reach; held-back pins are explained in
# .ci/audit-exceptions.toml. Fails, never passes, when a package could not be checked.
AUDIT_VENV ?= .venv-audit
audit: install
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install --quiet pip-audit==2.10.1; }
	$(PY) .ci/audit_dependencies.py --pip-audit $(AUDIT_VENV)/bin/pip-audit

clean:
	rm -rf $(VENV) $(AUDIT_VENV) db.sqlite3 staticfiles .pytest_cache
