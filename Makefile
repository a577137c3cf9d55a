# Two-command quick start: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: run test bench mutation venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/axsim run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(ARGS)

# Mutation testing of the model packages (config: [tool.mutmut] in pyproject.toml; docs/testing.md).
# Unattended; nice'd, 2 workers. MUTANTS selects a subset, e.g. MUTANTS='simulator.hw.*'.
# mutmut regenerates the mutants of changed model files but keeps its copies of the other
# modules: those copies (no .meta beside them) are deleted first, so it copies them afresh.
MUTANTS ?=
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	if [ -d mutants/simulator ]; then find mutants/simulator -name '*.py' ! -exec test -e '{}.meta' ';' -delete; fi
	nice -n 10 $(BIN)/mutmut run --max-children 2 $(MUTANTS) > mutants-run.log 2>&1 || (tail -20 mutants-run.log; exit 1)
	$(BIN)/python tools/mutation_report.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
