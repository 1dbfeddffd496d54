"""Benchmark submitted kernels against PyTorch on a GPU worker process. No MCP imports."""
