# The two commands of the README: `make demo` runs the main job, `make test` runs the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,onnx]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tagen demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy engine storage tasks flows tagen bench
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.synthetic
	$(BIN)/python -m bench.sandbox_throughput
	$(BIN)/python -m bench.fuzz
	$(BIN)/python -m bench.knowledge_memory
	$(BIN)/python -m bench.retrieval
	$(BIN)/python -m bench.crash
	$(BIN)/python -m bench.load --requests 100

clean:
	rm -rf $(VENV) build *.egg-info
