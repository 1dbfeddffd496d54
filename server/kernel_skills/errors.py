"""The project's small error tree.

Domain code raises these; adapters (MCP tools, CLI commands) translate them into tool errors and
exit codes in one place each. Lower-level exceptions (NVRTC, CUDA, OS, YAML) are mapped to one of
these where they are caught, always with ``raise ... from exc``.
"""

from __future__ import annotations


class KernelSkillsError(Exception):
    """Base of every error this project raises on purpose. The message is for the user/agent."""

    exit_code: int = 1


class RefusedInput(KernelSkillsError):
    """The caller gave something we do not accept (bad option, escaping path, unknown name...).

    The message says what was wrong and what is accepted.
    """

    exit_code = 2


class EmulatorUnsupported(RefusedInput):
    """The CPU emulator cannot run this kernel (a limit of the emulator, not a verdict on the kernel:
    on a GPU it may well be correct). Nothing of it ran."""


class SkillError(KernelSkillsError):
    """A skill could not be found, parsed or read."""

    exit_code = 1


class CompileError(KernelSkillsError):
    """The compiler itself could not run (not: the source has errors — that is a normal result)."""

    exit_code = 1


class DeviceUnavailable(KernelSkillsError):
    """A GPU tool was called where no usable CUDA device (or GPU library) is present."""

    exit_code = 3


class MissingDependency(DeviceUnavailable):
    """A piece this machine lacks and the request needs (torch, g++, CuPy, Ray): the message names it,
    what needs it and how to install it; ``piece`` and ``install`` carry the same for a program."""

    def __init__(self, piece: str, *, needed_for: str, install: str):
        super().__init__(f"{piece} is not installed here, and {needed_for} needs it: {install}")
        self.piece = piece
        self.needed_for = needed_for
        self.install = install


# Optional Python packages: what needs each and how to install it (the doctor and the adapters say so).
OPTIONAL_MODULES: dict[str, tuple[str, str]] = {
    "torch": (
        "benchmarking (the problems' PyTorch references, on the CPU emulator or a GPU)",
        "pip install torch==2.13.0",
    ),
    "cupy": ("a benchmark on a GPU", "pip install cupy-cuda13x (the `gpu` extra)"),
    "ray": ("--executor ray", "pip install 'kernel-skills[ray]'"),
}


def missing_module(exc: ModuleNotFoundError) -> MissingDependency | None:
    """The named error for an optional package that failed to import; None for any other module."""
    root = (exc.name or "").split(".")[0]
    if root not in OPTIONAL_MODULES:
        return None
    needed_for, install = OPTIONAL_MODULES[root]
    return MissingDependency(root, needed_for=needed_for, install=install)


class KernelFault(KernelSkillsError):
    """The submitted kernel faulted on the device (illegal address, trap, misaligned access...)."""

    exit_code = 1


class Timeout(KernelSkillsError):
    """A worker (compile or benchmark) ran past its hard time limit and was replaced."""

    exit_code = 1


__all__ = [
    "OPTIONAL_MODULES",
    "CompileError",
    "DeviceUnavailable",
    "KernelFault",
    "KernelSkillsError",
    "MissingDependency",
    "RefusedInput",
    "SkillError",
    "Timeout",
    "missing_module",
]
