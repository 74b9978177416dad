# The two commands a reader needs: `make book` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Keep Jupyter's state inside the project, so nothing from the home directory leaks in.
export JUPYTER_CONFIG_DIR := $(CURDIR)/$(VENV)/etc/jupyter-config
export IPYTHONDIR := $(CURDIR)/$(VENV)/etc/ipython
export JUPYTER_DATA_DIR := $(CURDIR)/$(VENV)/share/jupyter
JB := $(BIN)/jupyter-book build -W -n --keep-going .

.PHONY: help setup book test lint unit notebooks build-strict book-tests lab-tests bench robust plateau faq scale lab clean

help:
	@echo "make book   build the HTML book into _build/html (sets up .venv first)"
	@echo "make test   lint, unit tests, strict build, every notebook again under nbval (same outputs), tests of the built book"
	@echo "make lab    open the notebooks in JupyterLab"
	@echo "make bench  time every notebook in a fresh kernel (bench/results.md)"
	@echo "make faq    every question of the FAQ (FAQ=folder, default ../shared/seed) has a verdict"
	@echo "make robust run every training chapter with other seeds and one thread; every check must pass"
	@echo "make plateau run the converged chapters with twice the epochs; every check must pass"
	@echo "make scale NB=03_pooling_and_receptive_fields PARAMS='-p EPOCHS 20'  run a chapter bigger"
	@echo "make clean  remove everything the commands above create"

# binder/overrides.json: JupyterLab attaches every cell at once, so "Run All" evaluates the
# {eval} numbers of every Markdown cell (binder/postBuild installs it on Binder).
# A download cut short fails pip's hash check (seen once in CI): pip tries again, past its cache.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml binder/overrides.json
	$(PYTHON) -m venv $(VENV)
	for attempt in 1 2 3; do \
	  cache=$$([ $$attempt = 1 ] || echo --no-cache-dir); \
	  if $(BIN)/python -m pip install -q $$cache -r requirements-dev.txt -e . 2>&1 \
	    | { grep -v "is ignored: it is neither" || true; }; then break; fi; \
	  [ $$attempt != 3 ] || exit 1; \
	  echo "pip install failed (attempt $$attempt of 3); trying again" >&2; \
	done
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

setup: $(STAMP)

book: setup
	$(JB) 2>&1 | tee _build.log
	@echo; echo "Book built: open file://$(CURDIR)/_build/html/index.html"

lint: setup
	$(BIN)/ruff check src tests bench _ext

unit: setup
	$(BIN)/pytest -q tests/unit

# A clean execution cache, so the strict build executes every notebook against today's helpers.
build-strict: setup
	rm -rf _build/.jupyter_cache _build/jupyter_execute
	$(JB) 2>&1 | tee _build.log

# The second (and last) execution of every notebook in `make test`, and the reproducibility
# check: nbval runs each notebook the strict build executed, with the build's outputs
# (_build/executed, from its cache), in a fresh kernel, and compares every output: prints,
# tables, glued values, figures. tests/nbval_sanitize.cfg masks memory addresses; cells
# tagged nbval-ignore-output print wall-clock times or show a live ipywidgets explorer. The
# kernel sees what the build's kernels see (helpers.execution.KERNEL_ENVIRONMENT) and runs
# cells as Jupyter does (tests/nbval_as_jupyter.py).
KERNEL_ENV := MPLBACKEND=module://matplotlib_inline.backend_inline HELPERS_PROGRESS=0
notebooks: build-strict
	rm -rf _build/executed
	$(BIN)/python -m helpers.execution _build/.jupyter_cache _build/executed/chapters chapters/*.ipynb
	env $(KERNEL_ENV) PYTHONPATH=tests $(BIN)/pytest -q --nbval --nbval-current-env -p no:randomly \
		-p nbval_as_jupyter --nbval-sanitize-with tests/nbval_sanitize.cfg _build/executed/chapters

book-tests: setup
	$(BIN)/pytest -q tests/book

# JupyterLab as `make lab` starts it, driven in Chromium: figures and the ipywidgets explorer render.
lab-tests: setup
	$(BIN)/pytest -q tests/lab

test: lint unit build-strict notebooks book-tests lab-tests

bench: setup
	$(BIN)/python bench/blurpool_speed.py
	$(BIN)/python bench/training_speed.py
	$(BIN)/python bench/bench.py

# Five seeds drawn afresh on every run (ROBUST_SEEDS=a,b,c,d,e replays a draw) and one thread (another
# summation order, as another CPU would give): every check cell of every training chapter must still
# pass; each draw is appended to bench/robust.md. Not part of `make test`.
robust: setup
	$(BIN)/python bench/robust.py

# Twice the epochs for the chapters rebuilt on converged runs: no glued verdict number may move much,
# every check must pass (bench/plateau.md). Not part of `make test`.
plateau: setup
	$(BIN)/python bench/plateau.py

# Every question of the FAQ (outside the repository; FAQ=its folder) has a verdict in chapter 9.
FAQ ?= ../shared/seed
faq: setup
	$(BIN)/python bench/faq_coverage.py $(FAQ)

# Run one chapter with larger settings (its `parameters` cell lists them); output in _build/scaled/.
scale: setup
	@test -n "$(NB)" || { echo "usage: make scale NB=<chapter name> PARAMS='-p NAME VALUE ...'"; exit 2; }
	mkdir -p _build/scaled
	cd chapters && ../$(BIN)/papermill --cwd . $(NB).ipynb ../_build/scaled/$(NB).ipynb $(PARAMS)
	@echo "Executed notebook: _build/scaled/$(NB).ipynb"

# LAB_ARGS adds options (e.g. --port=8899 --no-browser); LAB_DIR serves another folder.
# allow_root: containers and cloud VMs run as root, and the lab should start there too.
LAB_DIR ?= chapters
LAB_ARGS ?=
lab: setup
	$(BIN)/jupyter lab --ServerApp.allow_root=True $(LAB_ARGS) $(LAB_DIR)

clean:
	rm -rf $(VENV) _build _build.log .pytest_cache .ruff_cache .hypothesis src/*.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
