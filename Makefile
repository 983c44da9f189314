# liteio: S3-compatible object store (Swift, behind nginx over FastCGI).
#   make build        release build (.build/release/liteio)
#   make run          dev stack on https://localhost:8443 (state in .liteio/), Ctrl-C stops it
#   make test         Swift unit tests, then the end-to-end suite against the real nginx + liteio
#   make e2e          only the end-to-end suite (builds first)
#   make docker-test  build the Docker image and run the end-to-end suite against it
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Swift is preinstalled at /opt/swift on the project's machines but not always on PATH.
# Appended, so a swift already on PATH wins.
export PATH := $(PATH)$(if $(wildcard /opt/swift/usr/bin/swift),:/opt/swift/usr/bin,)

STATE ?= .liteio
PORT  ?= 8443
VENV  ?= .liteio/venv
export LITEIO_VENV := $(abspath $(VENV))
PYTEST_ARGS ?=

.PHONY: all build run deps venv test unit e2e check-deploy bench docker-test clean

all: build

deps:
	scripts/install-deps.sh

venv:
	scripts/venv.sh

build:
	swift build -c release

run: deps build
	scripts/stack.sh foreground $(STATE) $(PORT)

unit:
	swift test

e2e: build venv
	$(VENV)/bin/python -m pytest -q Tests/e2e $(PYTEST_ARGS)

test: deps venv
	$(MAKE) unit
	$(MAKE) check-deploy
	$(MAKE) e2e

# nginx -t on the production site, systemd-analyze verify + security on the units.
check-deploy: build
	scripts/check-deploy.sh

bench: build
	@if [ -x bench/run.sh ]; then bench/run.sh; else echo "bench: no bench/run.sh yet"; fi

# Docker engine if one runs; else (as root) debootstrap base + podman build + buildah run, no pulls.
docker-test: venv
	@# Without a Docker engine: podman + buildah + debootstrap (no-op when present or Docker works).
	command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || scripts/install-deps.sh docker
	PYTEST_ARGS="$(PYTEST_ARGS)" scripts/docker-test.sh

clean:
	@# Stop a dev stack left running, or its files stay busy.
	-[ ! -d $(STATE) ] || scripts/stack.sh stop $(STATE)
	rm -rf .build $(STATE)
