#!/usr/bin/env bash
# Run the GPU half of the test suite and the benchmarks on a lent GPU machine, from the repo root:
#   device tool: run(command="bash device-run/run_on_device.sh", carry=[".whl"], timeout_s=600)
# Installs the carried wheels (device-run/fetch_wheels.sh), runs `pytest -m gpu`, `kernel-skills
# calibrate`, then the `make bench` sections, and writes everything to
# perf/results/<device>-<date>.txt, written to $OUT (the folder the device tool brings back) as it
# goes, so a run stopped at the tool's limit still returns its log. Prints a short summary last.
# All three stages take longer than one 600 s call: name the ones to run, e.g.
#   bash device-run/run_on_device.sh tests        bash device-run/run_on_device.sh calibrate bench
# PYTEST_ARGS and BENCH_ARGS (e.g. "kernels --quick") are passed on.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(tests calibrate bench)
for stage in "${stages[@]}"; do
  case "$stage" in tests | calibrate | bench) ;; *) echo "unknown stage '$stage' (tests, calibrate, bench)"; exit 2 ;; esac
done
wants() { [[ " ${stages[*]} " == *" $1 "* ]]; }

if compgen -G ".whl/*.whl" >/dev/null; then
  # Into python3's own environment (on the image a root-owned venv), not a --target folder on
  # PYTHONPATH: cuda-pathfinder looks for the CCCL headers and the disassemblers only in
  # site.getsitepackages() and the user site, never on sys.path.
  pip_args=(-q --no-index --no-deps --no-compile --no-cache-dir --upgrade)
  if ! python3 -m pip install "${pip_args[@]}" .whl/*.whl; then
    echo "installing into python3's environment failed; using /tmp/site (the carried nvidia-* wheels" \
      "are then invisible to cuda-pathfinder: the system CUDA toolkit must provide them)"
    python3 -m pip install "${pip_args[@]}" --target /tmp/site .whl/*.whl || { echo "wheel install failed"; exit 1; }
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
  fi
fi
export PYTHONPATH="$PWD/server${PYTHONPATH:+:$PYTHONPATH}"  # the package, without installing it
export KERNEL_SKILLS_DATA_DIR="${KERNEL_SKILLS_DATA_DIR:-/tmp/kernel-skills-data}"
export KERNEL_SKILLS_CACHE_DIR="${KERNEL_SKILLS_CACHE_DIR:-/tmp/kernel-skills-cache}"

device=$(python3 -c "import torch; print(torch.cuda.get_device_name(0).replace(' ', '_'))" 2>/dev/null || echo no-gpu)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p perf/results
log="perf/results/${device}-${stamp}.txt"
json="perf/results/${device}-${stamp}.json"
copies=("$log")
[ -n "${OUT:-}" ] && copies+=("$OUT/$(basename "$log")")
{
  echo "# kernel-skills device run: ${device} ${stamp} (stages: ${stages[*]})"
  git rev-parse HEAD 2>/dev/null | sed 's/^/commit /'
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  python3 -c "import torch, cupy, triton; print('torch', torch.__version__, 'cupy', cupy.__version__, 'triton', triton.__version__)"
  python3 -c "from kernel_skills.toolchain.locate import toolkit; print(toolkit())" 2>&1 | tail -1
  if wants tests; then
    echo "## pytest -m gpu"
    # shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
    python3 -m pytest -m gpu -q -rs -p no:cacheprovider --continue-on-collection-errors ${PYTEST_ARGS:-} tests
    echo "pytest exit: $?"
  fi
  if wants calibrate; then
    echo "## kernel-skills calibrate"
    python3 -m kernel_skills.cli calibrate
  fi
  if wants bench; then
    echo "## python -m perf (make bench)"
    # shellcheck disable=SC2086
    python3 -m perf ${BENCH_ARGS:-} --json-out "$json"
    echo "bench exit: $?"
    echo "## kernel-skills calibrate --estimate (the emulator's estimate refitted to the section 'estimate')"
    python3 -m kernel_skills.cli calibrate --estimate
  fi
} 2>&1 | tee "${copies[@]}"
if [ -n "${OUT:-}" ] && [ -f "$json" ]; then
  cp "$json" "$OUT/"
fi
echo "== summary =="
grep -E "passed|failed|error|skipped" "$log" | tail -5
grep -A 40 "^== kernels ==" "$log" | head -40
