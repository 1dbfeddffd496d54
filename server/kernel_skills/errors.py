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


class KernelFault(KernelSkillsError):
    """The submitted kernel faulted on the device (illegal address, trap, misaligned access...)."""

    exit_code = 1


class Timeout(KernelSkillsError):
    """A worker (compile or benchmark) ran past its hard time limit and was replaced."""

    exit_code = 1


__all__ = [
    "CompileError",
    "DeviceUnavailable",
    "KernelFault",
    "KernelSkillsError",
    "RefusedInput",
    "SkillError",
    "Timeout",
]
