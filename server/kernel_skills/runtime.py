"""The long-lived resources of one server or one CLI command: the executor (the local one owns the GPU
``bench.worker.WorkerPool``), the toolchain (its confined ``CompileWorker``) and where the results DB
is. The server's lifespan or the CLI command creates one and closes it; domain calls are handed it
(``dispatch.benchmark(request, runtime=...)``, ``runtime.toolchain`` for ``toolchain.compile_source``).

Creating a Runtime starts nothing: each worker process starts on its first job, as before, so server
start-up and ``initialize`` stay fast. ``close`` stops the worker processes; a later job starts a fresh
one (a server that is connected again after its last session ended keeps working).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from kernel_skills.executors import make_executor
from kernel_skills.toolchain import Toolchain

if TYPE_CHECKING:
    from kernel_skills.executors import Executor


class Runtime:
    """An executor, the toolchain it compiles with, and the results DB; ``close`` (or leaving the
    ``with`` block) stops their worker processes."""

    def __init__(self, *, toolchain: Toolchain, executor: Executor, db: Path | None = None) -> None:
        """``db``: the results DB file; None follows ``results_db.db_path()`` at each use (so
        ``KERNEL_SKILLS_DATA_DIR``, which ``--data-dir`` sets)."""
        self.toolchain = toolchain
        self.executor = executor
        self.db = db

    @classmethod
    def create(
        cls, executor: str = "local", *, ray_address: str | None = None, db: Path | None = None
    ) -> Runtime:
        """A runtime with the executor of kind ``executor`` ("local" or "ray", RefusedInput otherwise) and
        a fresh toolchain; nothing starts until it is used."""
        toolchain = Toolchain()
        return cls(
            toolchain=toolchain,
            executor=make_executor(executor, ray_address=ray_address, toolchain=toolchain),
            db=db,
        )

    @classmethod
    @contextmanager
    def given_or_new(cls, runtime: Runtime | None) -> Iterator[Runtime]:
        """``runtime`` for the block (its owner closes it), or a new local one closed when the block ends:
        for a domain call whose caller may or may not hold a runtime (an eval, one judgement)."""
        if runtime is not None:
            yield runtime
            return
        with cls.create() as own:
            yield own

    @property
    def db_path(self) -> Path:
        """Where verdicts are stored and read."""
        if self.db is not None:
            return self.db
        from kernel_skills.bench import db_path

        return db_path()

    def close(self) -> None:
        self.executor.close()
        self.toolchain.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


__all__ = ["Runtime"]
