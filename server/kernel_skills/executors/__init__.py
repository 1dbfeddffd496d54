"""Where jobs run: the executor boundary (``base``), the embedded local worker (``local``, the default)
and a Ray cluster (``ray_executor``, the optional extra ``kernel-skills[ray]``). No MCP imports.

``configure(kind, ray_address=...)`` sets the process-wide executor that ``default_executor()`` returns
(``serve --executor`` and ``bench --executor`` call it); ``kernel_skills.dispatch`` uses it unless
given another.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kernel_skills.errors import RefusedInput
from kernel_skills.executors.models import EXECUTOR_KINDS

if TYPE_CHECKING:
    from kernel_skills.executors.base import Executor

_lock = threading.Lock()
_default: Executor | None = None
_atexit_registered = False


def make_executor(kind: str, *, ray_address: str | None = None) -> Executor:
    """A new executor of ``kind`` ("local" or "ray"); nothing starts until it is used."""
    if kind == "local":
        if ray_address:
            raise RefusedInput("--ray-address only applies to --executor ray")
        from kernel_skills.executors.local import LocalExecutor

        return LocalExecutor()
    if kind == "ray":
        from kernel_skills.executors.ray_executor import RayExecutor

        return RayExecutor(address=ray_address)
    raise RefusedInput(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTOR_KINDS)}")


def configure(kind: str, *, ray_address: str | None = None) -> Executor:
    """Make ``kind`` the process-wide executor (closing the previous one)."""
    executor = make_executor(kind, ray_address=ray_address)
    previous = _set_default(executor)
    if previous is not None:
        previous.close()
    return executor


def default_executor() -> Executor:
    """The configured executor; the local one unless ``configure`` chose another."""
    with _lock:
        current = _default
    if current is None:
        _set_default(make_executor("local"), only_if_unset=True)
    assert _default is not None
    return _default


def _set_default(executor: Executor, *, only_if_unset: bool = False) -> Executor | None:
    global _default, _atexit_registered
    with _lock:
        if only_if_unset and _default is not None:
            return None
        previous, _default = _default, executor
        if not _atexit_registered:
            import atexit

            atexit.register(_close_default)
            _atexit_registered = True
    return previous


def _close_default() -> None:
    with _lock:
        executor = _default
    if executor is not None:
        executor.close()


__all__ = ["configure", "default_executor", "make_executor"]
