# The two commands: `make demo` and `make test`. Everything lives in .venv/ inside the project.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
LOCK   := requirements.lock

.PHONY: demo test test-slow lab bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime install: the project and its pinned dependencies, plus the Jupyter kernel the notebooks use.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP) install --quiet -c $(LOCK) -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name studylib --display-name "Python (studylib)" >/dev/null
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c $(LOCK) -e '.[dev]'
	touch $@

# Runs the demo study. `studylib run` exits 0/1/2/3 for pipelines; the demo exits 0 whenever the
# study ran (verdict PASS or FAIL) and non-zero only for bad input (2) or a stage that raised (3).
demo: $(VENV)/.installed
	@$(BIN)/studylib run params/demo.yaml; rc=$$?; \
	if [ $$rc -le 1 ]; then exit 0; else exit $$rc; fi

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m slow

lab: $(VENV)/.installed-dev
	cd studylib/notebooks && ../../$(BIN)/jupyter lab

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .scratch .studylib-staging
