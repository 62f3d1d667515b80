# DreamNet: `make run` sets up and starts everything; `make test` sets up and runs the whole suite.
# Uses uv when it is on PATH, pip otherwise. Python 3.12 is required (Django 6).

PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null)

.PHONY: run test install lint format lock clean check-python image image-run

run: install
	$(BIN)/python manage.py serve

test: install
	$(BIN)/pytest -m "not e2e" --ignore=tests/e2e
	@if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then \
		DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest tests/e2e -m e2e; \
	fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(STAMP)

check-python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: install it (pyenv install 3.12) and retry."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || \
		{ echo "$(PYTHON) is older than 3.12; Django 6 needs 3.12+ (pyenv install 3.12)."; exit 1; }

$(STAMP): pyproject.toml constraints.txt | check-python
	@# espeak-ng: the offline text-to-speech of speech missions (agents/media, docs/media.md).
	@command -v espeak-ng >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq espeak-ng >/dev/null; } || echo "espeak-ng is missing: offline speech needs it"
	@# WeasyPrint (reports' PDFs) needs Pango, HarfBuzz and a font from Debian; install them once if missing.
	@if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' || ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1; then \
		echo "Installing WeasyPrint's Debian libraries (libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; \
	fi
ifdef UV
	test -x $(BIN)/python || $(UV) venv --python $(PYTHON) $(VENV)
	$(UV) pip install --python $(BIN)/python -c constraints.txt -e ".[dev]"
else
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
endif
	touch $(STAMP)

# The container image, built with no registry: debootstrap of Debian trixie imported into podman, then
# `podman build` of the Containerfile (containers/build.sh; installs podman, buildah, debootstrap and runc with apt
# when missing). The base and layers are cached in /var/cache/dreamnet-image. See docs/deploy.md#containers.
image:
	containers/build.sh

# Run the built image against PostgreSQL and Redis on this host and place an order through its API (what CI does).
image-run:
	containers/ci-run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency after changing pyproject.toml; commit constraints.txt with the change.
lock: check-python
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt
	rm -rf .lock-venv
	@echo "constraints.txt updated"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
