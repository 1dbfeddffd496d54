"""The CPU SIMT emulator: correctness verdicts for CUDA kernels without a GPU. No MCP imports.

``cpp/`` holds the engine (C++ headers and the runner, package data built on demand with g++).
"""
