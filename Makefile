# Pingan: `make run` sets everything up (SQLite, demo data) and serves; `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
SCALE ?= small
export FLASK_APP := app:create_app

.PHONY: run test test-sqlite test-postgres install translations i18n-update bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

translations: install
	$(VENV)/bin/pybabel compile -d translations

# Re-extract messages after adding strings, then translate the new entries in the .po file.
i18n-update: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

run: translations
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty --scale $(SCALE)
	$(FLASK) run --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set (CI sets it).
test: translations
	$(PY) -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL), browser tests excluded =="; \
		PINGAN_TEST_DB=postgres $(PY) -m pytest -q -m "not e2e"; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

bench: translations
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) instance/*.db instance/uploads .pytest_cache
