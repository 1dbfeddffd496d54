#!/usr/bin/env bash
# Run the GPU half of the test suite and the benchmarks on a lent GPU machine, from the repo root:
#   device tool: run(command="bash bench/run_on_device.sh", carry=[".whl"], timeout_s=600)
# Installs the carried wheels (bench/fetch_wheels.sh), runs `pytest -m gpu`, then the `make bench`
# sections, and writes everything to bench/results/<device>-<date>.txt (also copied to $OUT, the
# folder the device tool brings back). Prints a short summary last.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "wheel install failed"; exit 1; }
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD/server:$PYTHONPATH"          # the package, without installing it
export KERNEL_SKILLS_DATA_DIR="${KERNEL_SKILLS_DATA_DIR:-/tmp/kernel-skills-data}"
export KERNEL_SKILLS_CACHE_DIR="${KERNEL_SKILLS_CACHE_DIR:-/tmp/kernel-skills-cache}"

device=$(python3 -c "import torch; print(torch.cuda.get_device_name(0).replace(' ', '_'))" 2>/dev/null || echo no-gpu)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
log="bench/results/${device}-${stamp}.txt"
{
  echo "# kernel-skills device run: ${device} ${stamp}"
  git rev-parse HEAD 2>/dev/null | sed 's/^/commit /'
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  python3 -c "import torch, cupy, triton; print('torch', torch.__version__, 'cupy', cupy.__version__, 'triton', triton.__version__)"
  echo "## pytest -m gpu"
  python3 -m pytest -m gpu -q -rs -p no:cacheprovider --continue-on-collection-errors tests
  echo "pytest exit: $?"
  echo "## kernel-skills calibrate"
  python3 -m kernel_skills.cli calibrate
  echo "## python -m kernel_skills.benchmarks (make bench)"
  python3 -m kernel_skills.benchmarks --json-out "bench/results/${device}-${stamp}.json"
  echo "bench exit: $?"
} 2>&1 | tee "$log"
if [ -n "${OUT:-}" ]; then
  cp "$log" "$OUT/" && cp "bench/results/${device}-${stamp}.json" "$OUT/" 2>/dev/null
fi
echo "== summary =="
grep -E "passed|failed|error|skipped" "$log" | tail -5
grep -A 40 "^== kernels ==" "$log" | head -40
