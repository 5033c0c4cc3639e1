# The two commands of the README: `make demo` and `make test`. Each creates what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the C source of the canonical CSV parser is compiled at install (hatch_build.py): a change to it
# reinstalls too
NATIVE := src/parley/tracks/readers/_canonical_csv.c hatch_build.py
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt pyproject.toml $(NATIVE) | cksum | cut -d' ' -f1)

.PHONY: install demo test lint typecheck unit lock clean

# Debian packages the tests use: PDF rendering (WeasyPrint's Pango, fonts), pdftoppm to look at
# the pages, and Chromium for the desk's browser tests (Playwright drives Debian's build).
SYSTEM_PACKAGES := poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	fonts-dejavu-core chromium

$(STAMP): pyproject.toml requirements/lock.txt web/package-lock.json $(NATIVE)
	command -v cc >/dev/null || bash tools/system-packages.sh gcc libc6-dev
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	bash tools/web-assets.sh
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/parley demo --until-end

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

# The store's contract tests also run on PostgreSQL: tools/postgres.sh starts a throwaway server for
# pytest (installing Debian's postgresql package first when run as root without it) and stops it
# afterwards. Without a server those tests fail; PARLEY_REQUIRE_POSTGRES=0 makes them skip instead.
PARLEY_REQUIRE_POSTGRES ?= 1

PARLEY_REQUIRE_BROWSER ?= 1

unit: $(STAMP)
	bash tools/system-packages.sh $(SYSTEM_PACKAGES)
	PARLEY_REQUIRE_POSTGRES=$(PARLEY_REQUIRE_POSTGRES) PARLEY_REQUIRE_BROWSER=$(PARLEY_REQUIRE_BROWSER) \
		bash tools/postgres.sh $(BIN)/pytest

test: lint typecheck unit

# Regenerate the lock from pyproject.toml's ranges (run on purpose, commit the result).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]' hatchling editables
	.lock-venv/bin/pip freeze --exclude-editable --disable-pip-version-check \
		| grep -v '^parley' > requirements/lock.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
