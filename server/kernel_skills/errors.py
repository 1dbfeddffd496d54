"""The project's small error tree.

Domain code raises these; adapters (MCP tools, CLI commands) translate them into tool errors and
exit codes in one place each. Lower-level exceptions (NVRTC, CUDA, OS, YAML) are mapped to one of
these where they are caught, always with ``raise ... from exc``.
"""

from __future__ import annotations

import errno as _errno
import os
from pathlib import Path
from typing import Any

# Every exit code the CLI uses, in one table (each error class below names its own code).
EXIT_CODES: dict[int, str] = {
    0: "ok (a kernel judged correct, a command that succeeded)",
    1: "the kernel was judged and failed (compile error, incorrect, fault, time-out)",
    2: "bad input: an option, path or name we do not accept (RefusedInput)",
    3: "no usable device: no GPU, or no confinement/g++/torch for the CPU emulator (DeviceUnavailable, "
    "MissingDependency)",
    4: "a problem module is broken: the problem author's mistake, not the kernel's (ProblemError)",
    5: "the CPU emulator cannot run this kernel; nothing was judged (EmulatorUnsupported)",
    6: "the machine failed (disk full, permission, a killed worker): not judged, retry (ServerFault)",
}


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
    on a GPU it may well be correct). Nothing of it ran. A RefusedInput for callers that catch
    those, with its own exit code."""

    exit_code = 5


class ProblemError(KernelSkillsError):
    """A problem module (the problem author's code, not the kernel) is broken: it does not import, an
    entry is missing or mistyped, or ``make_inputs``/``reference``/... gave or did the wrong thing.

    Carries the module, the entry and what was expected vs. given (``given`` may be an exception)."""

    exit_code = 4

    def __init__(self, module: str, entry: str, expected: str, given: str) -> None:
        self.module, self.entry, self.expected, self.given = module, entry, expected, given
        super().__init__(f"problem module {module}: {entry}: expected {expected}; given {given}")

    @property
    def fields(self) -> dict[str, str]:
        """The error as data, to rebuild it across a process boundary: ``ProblemError(**fields)``."""
        return {"module": self.module, "entry": self.entry, "expected": self.expected, "given": self.given}


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


class ServerFault(KernelSkillsError):
    """The machine failed, not the submission: a full disk, a permission, a worker killed or stopped
    from outside, a binary that vanished. The message names the resource and the cause, and says the
    submission was not judged and may be retried. ``resource`` and ``errno_name`` carry the data
    (``"/var/cache/x"``, ``"ENOSPC"``) where one is known."""

    exit_code = 6

    def __init__(self, message: str, *, resource: str | None = None, errno_name: str | None = None) -> None:
        super().__init__(message)
        self.resource = resource
        self.errno_name = errno_name


NOT_JUDGED = "the submission was not judged; retry it once the server has recovered"


def errno_text(exc: OSError) -> str:
    """``ENOSPC (No space left on device)`` for an OSError, ``OSError`` when it carries no errno."""
    if exc.errno is None:
        return type(exc).__name__
    name = _errno.errorcode.get(exc.errno, str(exc.errno))
    return f"{name} ({exc.strerror or os.strerror(exc.errno)})"


def server_fault(resource: str, exc: OSError) -> ServerFault:
    """A ``ServerFault`` for an OSError on ``resource`` ("the compile cache /x/y"); raise it ``from exc``."""
    where = f" {exc.filename}" if exc.filename and str(exc.filename) not in resource else ""
    name = _errno.errorcode.get(exc.errno) if exc.errno is not None else None
    return ServerFault(
        f"{resource}{where}: {errno_text(exc)}; {NOT_JUDGED}",
        resource=str(exc.filename) if exc.filename else resource,
        errno_name=name,
    )


class EndpointError(KernelSkillsError):
    """A chat endpoint (an eval's model) could not be reached, or answered with an HTTP error or an
    unusable body. ``timed_out``: it did not answer in time (slow, not broken); ``status_code``: the
    HTTP status it answered, when it answered one."""

    exit_code = 1

    def __init__(self, message: str, *, timed_out: bool = False, status_code: int | None = None):
        super().__init__(message)
        self.timed_out = timed_out
        self.status_code = status_code

    @property
    def refused(self) -> bool:
        """An HTTP 4xx other than 408/429: the request itself is refused (bad model, key or path)."""
        code = self.status_code
        return code is not None and 400 <= code < 500 and code not in (408, 429)


class NoAnswers(EndpointError):
    """Not one request of an eval was answered: there is nothing to measure and no report."""


class ToolsUnsupported(EndpointError):
    """The endpoint refused a request because it carried ``tools``."""


class TeacherReplyError(SkillError):
    """The teacher's reply did not give a valid skill; ``raw_path`` holds it."""

    def __init__(self, message: str, raw_path: Path):
        super().__init__(message)
        self.raw_path = raw_path


class EmulatorFault(KernelFault):
    """The CPU emulator's engine stopped the launch and said why (``report``: its JSON report)."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


__all__ = [
    "EXIT_CODES",
    "NOT_JUDGED",
    "OPTIONAL_MODULES",
    "CompileError",
    "DeviceUnavailable",
    "EmulatorFault",
    "EmulatorUnsupported",
    "EndpointError",
    "KernelFault",
    "KernelSkillsError",
    "MissingDependency",
    "NoAnswers",
    "ProblemError",
    "RefusedInput",
    "ServerFault",
    "SkillError",
    "TeacherReplyError",
    "Timeout",
    "ToolsUnsupported",
    "errno_text",
    "missing_module",
    "server_fault",
]
