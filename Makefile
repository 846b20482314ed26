# autoloss-zero: `make demo` runs the demo search, `make test` runs the tests.
# Both install everything first (once; later runs take seconds).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -c requirements/constraints.txt
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK=1
# OpenMP threads sleep when idle instead of spinning (see README, Speed).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: install demo test clean-venv

install: $(STAMP)

$(STAMP): setup.py requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) "setuptools<81" wheel
	$(PIP) torch==2.13.0
	$(PIP) numpy opencv-python scipy ninja
	MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=2 CFLAGS="-DNDEBUG -fwrapv -O3 -Wall -g0" \
	  $(PIP) --no-build-isolation mmcv==2.1.0
	$(PY) -c "from mmcv.ops import nms, RoIAlign" || { echo "mmcv was built without its compiled ops (mmcv._ext): rebuild it with MMCV_WITH_OPS=1 and a C++ compiler, e.g. rm -rf .venv and make install again" >&2; exit 1; }
	$(PIP) mmengine mmsegmentation mmdet ftfy regex pycocotools shapely
	$(PIP) --no-deps mmpose
	$(PIP) json-tricks munkres chumpy
	$(PIP) --no-binary xtcocotools xtcocotools
	$(PIP) ray cma sympy matplotlib psutil tensorboard pytest pytest-timeout hypothesis
	$(PIP) --no-deps -e .
	$(PY) -c "import autoloss_zero, mmseg.models, mmdet.models, mmpose.models"
	touch $(STAMP)

demo: install
	$(PY) tools/make_demo_data.py --kind voc
	$(PY) tools/search.py configs/demo/voc_miou.py --resume

test: install
	$(PY) -m pytest tests

clean-venv:
	rm -rf $(VENV)
