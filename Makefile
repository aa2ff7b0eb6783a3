# Folio — two commands set up a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8000
# Two test processes (pytest-xdist) on the 2-core machines; PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n 2
export FOLIO_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test install system-deps lint typecheck check messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# OS packages: OCR (tesseract + Spanish), poppler's pdfsig, Chromium for the browser journeys, gettext.
# Installed with apt when running as root on Debian; otherwise the script says what is missing.
system-deps:
	@bash scripts/system-deps.sh

run: install system-deps
	@bash scripts/run.sh $(PORT)

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy folio

# Static checks CI runs before the suite: ruff (lint) and mypy with django-stubs.
check: install
	$(BIN)/ruff check .
	$(BIN)/mypy folio

messages: install
	$(BIN)/python manage.py makemessages -l es --no-obsolete --no-location --ignore=bench --ignore=var
	$(BIN)/python manage.py compilemessages -l es

bench: install
	@bash bench/run_all.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
