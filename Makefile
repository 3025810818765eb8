# The two commands of the README: `make demo` and `make test`. Both build their own virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov lives in its own virtualenv: its pinned dependencies (boto3, networkx...) stay out of ours.
CHECKOV_VERSION := 3.3.30
CHECKOV := $(VENV)/checkov/bin/checkov
# CodeNarc 3.7.0 (with its Jenkins CPS rules) from the npm package npm-groovy-lint, pinned by
# groovy/lint/package-lock.json; scripts/groovy_lint.py runs its jars on the JVM.
NODE_TOOLS := $(VENV)/node
CODENARC := $(NODE_TOOLS)/.installed

.PHONY: demo test lint format tools venv bench docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q pipelinelib
	touch $(STAMP)

venv: $(STAMP)

$(CHECKOV): Makefile
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(CHECKOV)

$(CODENARC): groovy/lint/package.json groovy/lint/package-lock.json | $(STAMP)
	bash scripts/install-tools.sh
	mkdir -p $(NODE_TOOLS)
	cp groovy/lint/package.json groovy/lint/package-lock.json $(NODE_TOOLS)/
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(CODENARC)

tools:
	bash scripts/install-tools.sh

demo: $(STAMP)
	rm -rf demo-workdir
	$(BIN)/pipelinelib demo --workdir demo-workdir

lint: $(STAMP) $(CHECKOV) $(CODENARC)
	$(BIN)/ruff check pipelinelib tests bench scripts docker
	$(BIN)/ruff format --check pipelinelib tests bench scripts docker
	$(BIN)/mypy
	$(BIN)/hadolint --no-color Dockerfile
	sh -n docker/entrypoint.sh
	$(BIN)/python scripts/checkov_baseline.py --checkov $(CHECKOV) terraform
	$(BIN)/python scripts/groovy_lint.py

format: $(STAMP)
	$(BIN)/ruff format pipelinelib tests bench scripts
	$(BIN)/ruff check --fix pipelinelib tests bench scripts

test: $(STAMP) tools lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	bash scripts/install-tools.sh bench
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py docs/cli.md

clean:
	rm -rf $(VENV) demo-workdir .pipelinelib test-artifacts
