#!/usr/bin/env bash
# Download, on a machine with pip and network, the wheels the GPU machine lacks (its image has
# torch, cupy-cuda13x, triton, numpy, pytest, anyio, cuda-bindings/pathfinder, nvidia-cuda-nvrtc,
# but not pydantic, the MCP SDK or cryptography). They go to .whl/ (git-ignored locally: add
# `/.whl/` to .git/info/exclude) and travel with the device tool's `carry: [".whl"]` (64 MiB limit
# in all); device-run/run_on_device.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_24_x86_64
           --platform manylinux_2_31_x86_64 --platform manylinux_2_34_x86_64)
# Pinned to the versions the project's own .venv was tested with (Python 3.11 there, 3.12 wheels here).
WHEELS=(
  pydantic==2.14.3 pydantic-core==2.50.4 annotated-types==0.8.0 typing-inspection==0.4.5
  typing-extensions==4.16.0 platformdirs==4.14.7 watchfiles==1.3.0 pyyaml==6.0.3
  mcp==2.3.0 mcp-types==2.3.0 httpx2==2.16.2 httpcore2==2.16.2 truststore==0.10.5 h11==0.16.0 idna==3.20
  jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 attrs==26.1.0
  opentelemetry-api==1.45.2 pyjwt==2.15.1 python-multipart==0.0.34 sse-starlette==3.7.0 starlette==1.10.0
  uvicorn==0.54.0 click==8.5.1 skills-ref==0.1.1 strictyaml==1.7.3 python-dateutil==4.0.0 six tzdata==2026.6
  # mcp imports cryptography at import time (mcp/server/request_state.py); the image has none of these
  cryptography==50.0.2 cffi==2.1.1 pycparser==3.12
  # the compile toolchain's CCCL headers and disassemblers (the image has NVRTC and the runtime headers)
  nvidia-cuda-cccl==13.3.5.0.6 nvidia-cuda-nvdisasm==13.5.37 nvidia-cuda-cuobjdump==13.5.37
)
for wheel in "${WHEELS[@]}"; do
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${PLATFORMS[@]}" -d .whl "$wheel"
done
du -sh .whl
