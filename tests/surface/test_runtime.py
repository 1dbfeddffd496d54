"""The ``Runtime``: nothing starts when one is made, ``close`` stops its workers (a later job starts a
fresh one), and a server closes the runtime it made itself when its last session ends, never one it
was handed."""

from __future__ import annotations

import secrets

import pytest
from mcp import Client

from kernel_skills.app import ServerConfig, build
from kernel_skills.runtime import Runtime
from kernel_skills.toolchain import CompileRequest, compile_source

KERNEL = 'extern "C" __global__ void k(float* x) { x[threadIdx.x] = 1.0f; }\n'


def test_a_runtime_starts_nothing_until_used_and_close_stops_its_compile_worker() -> None:
    runtime = Runtime.create()
    fresh = KERNEL + f"// {secrets.token_hex(8)}: new to the compile cache\n"
    with runtime:
        assert runtime.toolchain.worker.pid is None and runtime.executor.status().workers[0].pid is None
        assert compile_source(CompileRequest(source=fresh), toolchain=runtime.toolchain).ok
        assert runtime.toolchain.worker.pid is not None
    assert runtime.toolchain.worker.pid is None
    assert compile_source(CompileRequest(source=fresh + "// again\n"), toolchain=runtime.toolchain).ok
    assert runtime.toolchain.worker.started == 2  # a fresh worker after close
    runtime.close()


@pytest.mark.anyio
async def test_a_server_closes_its_own_runtime_after_its_last_session_and_never_a_borrowed_one() -> None:
    config = ServerConfig(bundled=False, use_env=False)
    borrowed = Runtime.create()
    for app in (build(config), build(config, borrowed)):
        source = KERNEL + f"// {secrets.token_hex(8)}: new to the compile cache\n"
        async with Client(app.server) as client:
            result = await client.call_tool("compile_kernel", {"source": source})
            assert not result.is_error
            assert app.runtime.toolchain.worker.pid is not None
        still_running = app.runtime.toolchain.worker.pid is not None
        assert still_running is (app.runtime is borrowed)
    borrowed.close()
    assert borrowed.toolchain.worker.pid is None
