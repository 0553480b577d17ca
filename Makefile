# Two commands a newcomer needs:  `make run` (dashboard on the embedded digits data)  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run classroom classroom-cluster zoo test test-fast lint format bench clean-checkpoints

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt  # includes requirements.txt, whose "-e ." line installs the project
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install everything (torch from this machine's disk)

zoo: setup  ## train (or load) the default models on digits
	$(PY) -m core zoo --dataset digits --no-pca

run: zoo  ## set up, train the default zoo once, open the dashboard
	$(PY) -m streamlit run dashboard/serve.py

classroom: zoo  ## serve the dashboard to a room, read-only (FOLDERS="dir1 dir2": shared image folders)
	$(PY) -m dashboard --classroom $(foreach f,$(FOLDERS),--folder-root $(f))

N ?= 2
classroom-cluster: zoo  ## a larger room: N read-only dashboard processes behind nginx (N=4; FOLDERS as above)
	$(PY) scripts/classroom_cluster.py --workers $(N) $(foreach f,$(FOLDERS),--folder-root $(f))

test: setup  ## set up and run every test (browser tests need /usr/bin/chromium)
	$(PY) -m pytest -n 2

test-fast: setup
	$(PY) -m pytest -n 2 -m "not slow and not e2e"

lint: setup  ## ruff: lint rules and the formatter's import order (configured in pyproject.toml)
	$(PY) -m ruff check .

format: setup  ## apply ruff's fixes
	$(PY) -m ruff check --fix .

bench: setup  ## the benchmark suite; writes bench/RESULTS.md
	$(PY) -m bench

clean-checkpoints:
	find checkpoints -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
