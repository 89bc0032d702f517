# The two commands of this project: `make demo` and `make test`. Each sets everything up first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .collections/ansible_collections/escalator/swim
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo test bench load setup collection clean docs chromium report-screenshot

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

test: setup chromium
	$(BIN)/python -m pytest tests

# Headless Chromium for tests/report/test_report_browser.py (Debian package chromium): installed with apt-get
# when missing and running as root; otherwise the browser test is skipped and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing headless Chromium (Debian package chromium) for the report's browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
	    || echo "make test: could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "make test: headless Chromium is missing and this is not root with apt-get: the browser test will be" \
	         "skipped (install it: sudo apt-get install chromium)"; \
	  fi; }

# docs/images/campaign-report.png (README, docs/user-guide.md): the report of `make demo`'s campaign, screenshot
# by headless Chromium.
report-screenshot: setup chromium
	test -f .demo/state/campaigns/demo-swim-olt-2-0-0/report.html || $(BIN)/python tools/demo.py
	$(BIN)/swim report .demo/state/campaigns/demo-swim-olt-2-0-0 --screenshot docs/images/campaign-report.png --size 1280x1500

# The full-size load test: a campaign over 200 simulated devices with 5% faults (`make test` runs 40).
load: setup
	SWIM_LOAD_FULL=1 $(BIN)/python -m pytest tests/load -q -s

# Campaign benchmark (docs/performance.md): N = 10, 50, 100, 200, 500, 1000 (or the largest N that fits the
# machine), a few hours; writes bench/results.json, bench/bench.png and the README's table.
# `python -m swim_bench --quick` is the few-minute check (also run by `make test`).
bench: setup
	$(BIN)/python -m swim_bench --readme README.md $(BENCH_ARGS)

# Module/plugin/role reference (docs/reference/) and CHANGELOG.md, generated from the code and
# changelogs/fragments (tests/quality/test_docs.py fails when they are stale).
docs: setup
	$(BIN)/python tools/build_docs.py

clean:
	rm -rf $(VENV) .collections .demo
