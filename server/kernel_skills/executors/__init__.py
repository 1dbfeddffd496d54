"""Where jobs run: the executor boundary (``base``), the embedded local worker (``local``, the default)
and a Ray cluster (``ray_executor``, the optional extra ``kernel-skills[ray]``). No MCP imports.

``make_executor(kind, ray_address=..., toolchain=...)`` builds one; a ``kernel_skills.runtime.Runtime``
holds the one a server or a CLI command uses (``serve --executor`` and ``bench --executor`` choose it)
and closes it. ``compile_many`` / ``emulate_many``: many compiles or emulator verdicts at once on an
executor's CPU tasks (in parallel on a Ray cluster), as typed results, for scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel_skills.errors import RefusedInput
from kernel_skills.executors.base import Executor
from kernel_skills.executors.cpu import compile_many, emulate_many
from kernel_skills.executors.models import EXECUTOR_KINDS

if TYPE_CHECKING:
    from kernel_skills.toolchain import Toolchain


def make_executor(
    kind: str, *, ray_address: str | None = None, toolchain: Toolchain | None = None
) -> Executor:
    """A new executor of ``kind`` ("local" or "ray") compiling with ``toolchain`` (None: its own); nothing
    starts until it is used."""
    if kind == "local":
        if ray_address:
            raise RefusedInput("--ray-address only applies to --executor ray")
        from kernel_skills.executors.local import LocalExecutor

        return LocalExecutor(toolchain=toolchain)
    if kind == "ray":
        from kernel_skills.executors.ray_executor import RayExecutor

        return RayExecutor(address=ray_address, toolchain=toolchain)
    raise RefusedInput(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTOR_KINDS)}")


__all__ = ["Executor", "compile_many", "emulate_many", "make_executor"]
