# UpravDolg — the two contract commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UPRAVDOLG := $(BIN)/upravdolg
APT_PACKAGES := debootstrap sip-tester espeak-ng ffmpeg chromium fonts-dejavu-core
PYTEST_ARGS ?=

.PHONY: help venv system-deps postgres sounds sandbox sandbox-down lint test test-unit demo bench clean

help:
	@echo "make demo   — set everything up and run the main job on the embedded default (SQLite)"
	@echo "make test   — set up and run the whole test suite (lint, types, unit, storage, Asterisk)"
	@echo "make bench  — run the benchmarks (table + bench/results/*.json)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# Debian packages the sandbox and the tests need (installed only when missing).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# PostgreSQL on 127.0.0.1:5432 (this machine kind starts it; start it if it stopped).
postgres:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432

# The IVR's prompts (espeak-ng placeholders for any not recorded; only missing or outdated ones are made).
sounds: venv system-deps
	$(UPRAVDOLG) sounds build

sandbox: venv system-deps sounds
	$(UPRAVDOLG) --set log.level=WARNING asterisk up

sandbox-down: venv
	$(UPRAVDOLG) asterisk down

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test: venv system-deps postgres sandbox lint
	$(BIN)/pytest $(PYTEST_ARGS)

demo: venv system-deps sandbox
	$(UPRAVDOLG) --set log.level=WARNING demo

bench: venv sounds
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache upravdolg.db upravdolg.db-*
