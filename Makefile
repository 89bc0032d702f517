# The two commands of this project: `make demo` and `make test`. Each sets everything up first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .collections/ansible_collections/escalator/swim
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test bench load setup collection clean docs

setup: $(STAMP) collection

$(STAMP): constraints.txt requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# The checkout itself is the collection: link it where ansible.cfg's collections_path looks.
collection:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn ../../.. $(COLLECTION_LINK)

demo: setup
	$(BIN)/python tools/demo.py

test: setup
	$(BIN)/python -m pytest tests

# The full-size load test: a campaign over 200 simulated devices with 5% faults (`make test` runs 40).
load: setup
	SWIM_LOAD_FULL=1 $(BIN)/python -m pytest tests/load -q -s

# Campaign benchmark (docs/performance.md): N = 10, 50, 100, 200, about an hour; writes bench/results.json
# and bench/bench.png. `python -m swim_bench --quick` is the few-minute check (also run by `make test`).
bench: setup
	$(BIN)/python -m swim_bench $(BENCH_ARGS)

# Module/plugin/role reference (docs/reference/) and CHANGELOG.md, generated from the code and
# changelogs/fragments (tests/quality/test_docs.py fails when they are stale).
docs: setup
	$(BIN)/python tools/build_docs.py

clean:
	rm -rf $(VENV) .collections .demo
