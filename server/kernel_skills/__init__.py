"""kernel-skills: serve Agent Skills over MCP and compile/benchmark H100 CUDA kernels."""

__version__ = "0.3.0"
