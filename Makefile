# KissPoll: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := app

.PHONY: run test bench system-deps translations messages clean

# Compiled message catalogs (Flask-Babel reads .mo files); built from the .po files in git.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

%.mo: %.po | $(VENV)/.runtime
	$(BIN)/pybabel -q compile -i $< -o $@

translations: $(CATALOGS)

# After editing templates or code: collect the strings and merge them into every catalog.
messages: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg --no-location -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching

run: $(VENV)/.runtime $(CATALOGS)
	$(BIN)/flask polls init-db
	$(BIN)/flask polls demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Tests need a real redis-server, PostgreSQL and Debian's Chromium; install them when missing
# (as root). The tests run their own PostgreSQL cluster on a free port, so Debian's package is
# told not to create (and start) its default cluster on 5432: postgresql-common goes in first
# with create_main_cluster = false, as the official postgres Docker image does.
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "please install:$$missing (apt-get install -y$$missing)"; exit 1; fi; \
	  apt-get update -qq || exit 1; \
	  case "$$missing" in *postgresql*) \
	    $(APT_INSTALL) postgresql-common && \
	    sed -ri 's/^#?[[:space:]]*create_main_cluster\b.*/create_main_cluster = false/' \
	      /etc/postgresql-common/createcluster.conf || exit 1;; \
	  esac; \
	  $(APT_INSTALL) $$missing; \
	fi

# Test-only JavaScript (axe-core for tests/test_accessibility.py), exactly as package-lock.json pins it.
node_modules/.installed: package-lock.json package.json | system-deps
	npm ci --no-audit --no-fund
	touch $@

test: $(VENV)/.dev system-deps node_modules/.installed $(CATALOGS)
	$(BIN)/python -m pytest

bench: $(VENV)/.dev system-deps $(CATALOGS)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules instance/*.db instance/*.db-*
