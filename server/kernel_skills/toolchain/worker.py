"""Parent side of the compile worker: one long-lived process, reused across requests, replaced when it
runs past its hard timeout or dies. NVRTC failures are translated into our errors here, once.
The process mechanics (spawn, frames, deadline, kill and replace) are ``kernel_skills.workerproc``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kernel_skills import procs, tempdirs
from kernel_skills.confine import UNCONFINED_ENV, opted_out
from kernel_skills.errors import NOT_JUDGED, CompileError, ServerFault, Timeout, server_fault
from kernel_skills.toolchain.headers import SHIM_LABEL
from kernel_skills.toolchain.locate import nvrtc_lib_dir, toolkit
from kernel_skills.toolchain.models import Sandbox
from kernel_skills.toolchain.worker_main import CONFINE, UNCONFINED
from kernel_skills.workerproc import (
    ChildDied,
    ChildGone,
    ChildStopped,
    ChildTimeout,
    SupervisedChild,
)


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


DEFAULT_TIMEOUT_S = _env_number("KERNEL_SKILLS_COMPILE_TIMEOUT_S", 30.0)
DEFAULT_MEMORY_MB = int(_env_number("KERNEL_SKILLS_COMPILE_MEMORY_MB", 4096))
_STARTUP_TIMEOUT_S = 60.0
_LOG = logging.getLogger(__name__)  # forwarded to MCP clients as log messages while serving


class CompileWorker:
    """Runs NVRTC in a child process with RLIMIT_AS and a hard per-compile timeout. Thread-safe
    (requests are served one at a time). The child's working directory is an empty private folder,
    so no quoted include can resolve against the server's current directory."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
        confine_reads: bool | None = None,
    ) -> None:
        """``confine_reads``: confine the worker to the toolkit folders (wall 3). None: yes, unless
        ``KERNEL_SKILLS_UNCONFINED=1`` (the ``--unconfined`` opt-out) is set."""
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.confine_reads = not opted_out() if confine_reads is None else confine_reads
        self.sandbox: Sandbox | None = None  # how the running worker is confined (None: not started)
        self._child = SupervisedChild(
            "kernel_skills.toolchain.worker_main",
            args=self._args,
            python_flags=["-P"],  # never import from the server's cwd or the script's folder
            private_cwd=tempdirs.prefix("nvrtc"),
            on_start=self._handshake,
        )

    @property
    def pid(self) -> int | None:
        return self._child.pid

    @property
    def started(self) -> int:
        """How many processes this worker has started (tests check replacement)."""
        return self._child.starts

    def compile(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = self._child.request(request, self.timeout_s)
        except ChildStopped as exc:
            _LOG.warning("compile worker replaced: it was stopped from outside (pid %s)", exc.pid)
            raise ServerFault(
                f"the compile worker (pid {exc.pid}) was stopped from outside the server (SIGSTOP) and "
                f"gave no reply within {self.timeout_s:g} s; it was replaced; {NOT_JUDGED}"
            ) from exc
        except ChildTimeout as exc:
            _LOG.warning("compile worker replaced: a compile ran past %g s", self.timeout_s)
            raise Timeout(
                f"the compile ran past its {self.timeout_s:g} s limit; the compiler worker was stopped "
                "and replaced (deep template recursion or huge unrolled loops are the usual causes)"
            ) from exc
        except ChildDied as exc:
            _LOG.warning("compile worker replaced: it died (exit status %s)", exc.returncode)
            if procs.from_outside(exc.returncode) or exc.returncode is None:
                raise _killed(exc.returncode) from exc
            raise CompileError(
                f"the compiler worker died (exit status {exc.returncode}); the source may need more than the "
                f"{self.memory_mb} MB memory cap. The worker was replaced; try again or simplify"
            ) from exc
        except OSError as exc:  # spawning it: no memory, no processes, no temp space
            raise server_fault("could not start the compile worker", exc) from exc
        return _translate(reply)

    def close(self) -> None:
        self._child.close()

    @property
    def confined(self) -> bool | None:
        return None if self.sandbox is None else self.sandbox.confined

    def _args(self) -> list[str]:
        mode = CONFINE if self.confine_reads else UNCONFINED
        return [str(self.memory_mb * 1024 * 1024), mode, *(str(path) for path in _readable_dirs())]

    def _handshake(self, child: SupervisedChild) -> None:
        try:
            ready = child.receive(_STARTUP_TIMEOUT_S)
        except ChildGone as exc:
            cause = "TimeoutError" if isinstance(exc, ChildTimeout) else "EOFError"
            raise CompileError(f"the compiler worker did not start ({cause})") from exc
        if "unconfinable" in ready:
            raise CompileError(
                "compiling is refused: the compiler cannot be confined on this machine "
                f"({ready['unconfinable']}). Submitted source may name any host file, so NVRTC only runs "
                "confined. Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; "
                "on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0) or Landlock (Linux 5.13+, "
                "lsm=...,landlock), "
                f"or, for trusted local use only, pass --unconfined ({UNCONFINED_ENV}=1)"
            )
        if not ready.get("ready"):
            raise CompileError(f"the compiler worker could not load NVRTC: {ready.get('error')}")
        self.sandbox = Sandbox.model_validate({**ready["sandbox"], "readable": _READABLE_LABELS})
        if not self.sandbox.confined:
            _LOG.warning("compile worker started unconfined (--unconfined): trusted local use only")


def _killed(returncode: int | None) -> ServerFault:
    if returncode is None:
        return ServerFault(
            "the compile worker vanished (its pipe closed with no exit status); it was replaced; "
            + NOT_JUDGED
        )
    return ServerFault(
        f"the compile worker was killed by {procs.signal_name(-returncode)}, a signal it did not raise "
        f"itself (sent from outside the server); it was replaced; {NOT_JUDGED}"
    )


_READABLE_LABELS = [SHIM_LABEL, "<cuda-include>", "<cccl-include>", "<nvrtc-lib>"]


def _readable_dirs() -> list[Path]:
    """What the compiler may read: the header shims, the toolkit headers and NVRTC's own libraries."""
    tk = toolkit()
    nvrtc_lib = nvrtc_lib_dir()
    return [*tk.include_dirs, nvrtc_lib]


def _translate(reply: dict[str, Any]) -> dict[str, Any]:
    """The one place NVRTC API failures become our errors (a compile error in the source is not one)."""
    if "api_error" in reply:
        name, message = reply["api_error"]
        raise CompileError(f"NVRTC failed ({name}): {message}")
    return reply
