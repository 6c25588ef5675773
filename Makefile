# facesynth: two commands set everything up on a fresh machine.
#   make demo   creates .venv (if missing), installs, runs the pipeline on the built-in model
#   make test   creates .venv (if missing), installs, runs the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out/demo

.PHONY: demo test install clean assets

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m synth.demo --out $(OUT)
	$(PY) -m pretrain.demo --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

# Regenerate the built-in head model (assets/default_head.npz) from its script.
assets: $(STAMP)
	$(PY) scripts/build_default_head.py --out assets/default_head.npz

clean:
	rm -rf out build *.egg-info
