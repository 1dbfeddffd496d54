"""An install people expect (issue 21): the built wheel installs into a fresh venv with only the
runtime (torch pinned first, as `make serve` does; no test tools) and `kernel-skills serve --transport
stdio` from it compiles a kernel and gives an emulator verdict through the official MCP client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.slow, pytest.mark.anyio]
ROOT = Path(__file__).parents[2]
TORCH = "torch==2.13.0"  # the Makefile's TORCH_VERSION


def _run(*args: str | Path, timeout: float = 900) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-q", "-w", where)
    (wheel,) = where.glob("kernel_skills-*.whl")
    venv = where / "venv"
    _run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    _run(*pip, TORCH)
    _run(*pip, wheel)
    return venv


def test_the_wheel_installs_the_runtime_without_test_tools(installed: Path) -> None:
    names = {
        line.split("==")[0].lower()
        for line in _run(installed / "bin" / "python", "-m", "pip", "freeze").split()
    }
    assert {"kernel-skills", "mcp", "torch", "pydantic"} <= names
    assert not names & {"pytest", "ruff", "ray", "pytest-xdist"}, names & {"pytest", "ruff", "ray"}


async def test_the_installed_command_serves_stdio_compiles_and_judges_on_the_emulator(
    installed: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KERNEL_SKILLS_NO_GPU": "1",
        "KERNEL_SKILLS_DATA_DIR": str(tmp_path / "data"),
        "KERNEL_SKILLS_CACHE_DIR": str(tmp_path / "cache"),
    }
    server = StdioServerParameters(
        command=str(installed / "bin" / "kernel-skills"),
        args=["serve", "--transport", "stdio"],
        env=env,
        cwd=str(tmp_path),
    )
    source = (ROOT / "kernels" / "gelu_tanh" / "gelu_tanh.cu").read_text()
    async with Client(server) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"compile_kernel", "benchmark_kernel", "get_skill"} <= tools
        skill = await client.call_tool("get_skill", {"name": "h100-cuda-kernels"})
        assert not skill.is_error
        compiled = await client.call_tool("compile_kernel", {"source": source, "block_size": 256})
        assert not compiled.is_error and compiled.structured_content["ok"]
        launch = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": 256, "grid": "ceil_div(n, 4096)"}
        judged = await client.call_tool("benchmark_kernel", {**launch, "source": source})
    assert not judged.is_error and judged.content[0].text.startswith("CORRECT on the CPU emulator")
