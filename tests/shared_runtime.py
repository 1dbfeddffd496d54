"""The one ``Runtime`` a test process uses, as one server process would: its compile worker and GPU
worker start on first use and ``tests/conftest.py`` closes them when the session ends. Helpers without
fixtures (``tests/kernels/simt_runner.py``, ...) import it from here; tests may take the ``runtime``
fixture. Always import it as ``tests.shared_runtime`` (one module, one runtime)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from kernel_skills.runtime import Runtime

RUNTIME = Runtime.create()


@asynccontextmanager
async def runtime_lifespan(server: object) -> AsyncIterator[SimpleNamespace]:
    """The lifespan of a bare ``MCPServer`` that registers the kernel tools: they read the runtime
    from the lifespan value (``surface.lifespan.runtime_of``)."""
    del server
    yield SimpleNamespace(runtime=RUNTIME)


__all__ = ["RUNTIME", "runtime_lifespan"]
