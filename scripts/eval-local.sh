#!/usr/bin/env bash
# `make eval`: build/reuse llama-server, fetch/verify the model, serve it on loopback, run the
# bundled skill's eval against it, write the report, stop the server (also on Ctrl-C or failure).
#   LOCAL_MODEL=0.5b|1.5b  EVAL_RUNS=N  EVAL_PORT=8091  EVAL_PARALLEL=4  EVAL_MAX_TOKENS=1024
#   EVAL_ARGS="..." (more kernel-skills eval options, e.g. --resume runs/DATE)
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=${LOCAL_MODEL:-0.5b}
RUNS=${EVAL_RUNS:-1}
PORT=${EVAL_PORT:-8091}
PARALLEL=${EVAL_PARALLEL:-4}
MAX_TOKENS=${EVAL_MAX_TOKENS:-1024}
SKILL=${EVAL_SKILL:-skills/h100-cuda-kernels}
CACHE=${LOCAL_MODEL_CACHE:-.cache/local-model}
PY=.venv/bin/python

scripts/local-model.sh engine
scripts/local-model.sh model "$MODEL"
GGUF=$(scripts/local-model.sh path "$MODEL")
NAME=$(basename "$GGUF" .gguf)
PID_FILE="$CACHE/llama-server.pid"

"$PY" -m kernel_skills.evals.lift.local_model stop --pid-file "$PID_FILE"  # a server left by a killed run
trap '"$PY" -m kernel_skills.evals.lift.local_model stop --pid-file "$PID_FILE"' EXIT
"$PY" -m kernel_skills.evals.lift.local_model serve --server "$CACHE/bin/llama-server" --model "$GGUF" \
    --port "$PORT" --parallel "$PARALLEL" --pid-file "$PID_FILE" --log-file "$CACHE/llama-server.log" \
    --prime-skill "$SKILL"

# shellcheck disable=SC2086
.venv/bin/kernel-skills eval "$SKILL" --model "$NAME" --base-url "http://127.0.0.1:$PORT/v1" \
    --runs "$RUNS" --concurrency "$PARALLEL" --max-tokens "$MAX_TOKENS" --temperature 0 --seed 0 \
    --timeout 600 --runs-dir runs ${EVAL_ARGS:-}
