"""What the process table says about a child: alive, stopped, and whether the signal that ended it
came from outside (an operator, the OOM killer, a supervisor) rather than from the child itself."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

# Signals a crashing program raises on itself (a fault, abort(), a seccomp kill, a spent CPU
# limit); any other signal that ends a child was sent to it from outside.
SELF_RAISED = frozenset(
    {signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT, signal.SIGSYS}
    | {signal.SIGTRAP, signal.SIGXCPU, signal.SIGXFSZ}
)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def from_outside(returncode: int | None) -> bool:
    """Whether a ``Popen.returncode`` says the child was killed by a signal it did not raise itself."""
    return returncode is not None and returncode < 0 and -returncode not in SELF_RAISED


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts; a pid of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (SIGSTOP/SIGTSTP, state T) or traced (t) right now."""
    with contextlib.suppress(OSError, IndexError):
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2] in "Tt"
    return False


def group_stopped(pgid: int) -> bool:
    """Whether any process of the process group ``pgid`` is stopped."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return stopped(pgid)
    for entry in entries:
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(f"/proc/{entry}/stat").read_text()
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] in "Tt":
                return True
    return False


__all__ = ["SELF_RAISED", "alive", "from_outside", "group_stopped", "signal_name", "stopped"]
