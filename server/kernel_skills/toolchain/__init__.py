"""Compile CUDA C++ with NVRTC (no GPU needed) and report what the kernel will do. No MCP imports."""
