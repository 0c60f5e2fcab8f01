# The two commands: `make demo` and `make test`. Everything lives in .venv/ inside the project.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

# Exact versions with hashes, generated from pyproject.toml by `make lock`: runtime; runtime + dev (tests,
# benchmarks, scripts); runtime + dev + lab (JupyterLab, kept out of the test environment).
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
LAB_LOCK := requirements-lab.lock
# The lock generator, installed in a throwaway venv of its own. One universal lock (markers for other
# platforms and Python versions) resolved from Python 3.11 on; pins already in the lock files are kept
# unless pyproject.toml needs another version (`make lock LOCK_FLAGS=--upgrade` upgrades everything).
UV_VERSION := 0.13.9
LOCK_TOOL  := .lock-tool
UV         := $(LOCK_TOOL)/bin/uv
LOCK_ARGS  := --universal --python-version 3.11 --generate-hashes
LOCK_FLAGS ?=

.PHONY: demo test test-slow lab bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime install: the locked dependencies (every file checked against its hash), then the project
# itself without dependencies, plus the "Python (studylib)" Jupyter kernel for `make lab` (the runner
# does not need it: it falls back to the kernel of the interpreter it runs in).
$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name studylib --display-name "Python (studylib)" >/dev/null
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed $(DEV_LOCK)
	$(PIP) install --quiet --require-hashes -r $(DEV_LOCK)
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed-dev $(LAB_LOCK)
	$(PIP) install --quiet --require-hashes -r $(LAB_LOCK)
	touch $@

# Runs the demo study. `studylib run` exits 0/1/2/3 for pipelines; the demo exits 0 whenever the
# study ran (verdict PASS or FAIL) and non-zero only for bad input (2) or a stage that raised (3).
# Byte-compiles studylib first (incremental, a fraction of a second when nothing changed): where
# PYTHONDONTWRITEBYTECODE is set, every process (the runner, the kernel server) would compile it again.
demo: $(VENV)/.installed
	@$(BIN)/python -m compileall -q studylib >/dev/null
	@$(BIN)/studylib run params/demo.yaml; rc=$$?; \
	if [ $$rc -le 1 ]; then exit 0; else exit $$rc; fi

# pytest caches the test modules it rewrites for its assertions (tests/**/__pycache__/*-pytest-*.pyc), but
# not where PYTHONDONTWRITEBYTECODE is set: then each worker rewrote every test module again, 7-8 CPU-s of
# its collection. The suite's processes may write bytecode (what they import is compiled already).
test: $(VENV)/.installed-dev
	@$(BIN)/python -m compileall -q studylib tests >/dev/null
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n 2 --dist loadfile

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m slow

lab: $(VENV)/.installed-lab
	cd studylib/notebooks && ../../$(BIN)/jupyter lab

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run_all.py

# Regenerates the lock files from pyproject.toml; the dev lock is constrained by the runtime lock, so
# the tests run on exactly the versions a study runs on, and the lab lock by the dev lock. The command
# is repeated at the top of each file.
lock: $(UV)
	$(UV) pip compile --quiet pyproject.toml $(LOCK_ARGS) $(LOCK_FLAGS) -o $(LOCK)
	$(UV) pip compile --quiet pyproject.toml --extra dev -c $(LOCK) $(LOCK_ARGS) $(LOCK_FLAGS) -o $(DEV_LOCK)
	$(UV) pip compile --quiet pyproject.toml --extra dev --extra lab -c $(DEV_LOCK) $(LOCK_ARGS) $(LOCK_FLAGS) \
		-o $(LAB_LOCK)

$(UV):
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/python -m pip install --quiet uv==$(UV_VERSION)

clean:
	rm -rf $(VENV) $(LOCK_TOOL) .scratch .studylib-staging
