"""A missing optional piece is a named error on what needs it: torch (hidden from every Python process
of the run) and g++ (a PATH without it), through the real CLI and the real MCP client over stdio —
never the bare "Error executing tool benchmark_kernel" (the SDK's answer to an unexpected exception)
nor a ModuleNotFoundError traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from kernel_skills.errors import MissingDependency, missing_module

from .processes import child_env, run_cli

KERNEL = Path(__file__).resolve().parents[1] / "bench" / "good_kernels" / "gelu_tanh.cu"
BENCH = ["bench", str(KERNEL), "--problem", "gelu_tanh", "--grid", "ceil_div(n, 256)"]
TORCH_SAID = "torch is not installed here"
GXX_SAID = "g++ is not installed here"


def _fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No engine built yet (the build is what needs g++) and no GPU: device auto is the emulator."""
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERNEL_SKILLS_NO_GPU", "1")


@pytest.mark.parametrize(
    ("piece", "said", "install"),
    [("torch", TORCH_SAID, "pip install torch==2.13.0"), ("gxx", GXX_SAID, "apt-get install g++")],
)
def test_the_cli_names_the_missing_piece_and_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: str, said: str, install: str
) -> None:
    _fresh_cache(monkeypatch, tmp_path)
    hidden = {"hide_torch": piece == "torch", "without_gxx": piece == "gxx"}
    done = run_cli(tmp_path, *BENCH, **hidden)
    assert done.returncode == 3, done.stderr
    assert f"error (MissingDependency): {said}" in done.stderr and install in done.stderr
    assert "Traceback" not in done.stderr and "ModuleNotFoundError" not in done.stderr
    as_json = run_cli(tmp_path, *BENCH, "--json", **hidden)
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "MissingDependency" and said in error["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(("piece", "said"), [("torch", TORCH_SAID), ("gxx", GXX_SAID)])
async def test_benchmark_kernel_over_mcp_names_the_missing_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: str, said: str
) -> None:
    _fresh_cache(monkeypatch, tmp_path)
    env = child_env(tmp_path, hide_torch=piece == "torch", without_gxx=piece == "gxx")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "kernel_skills.cli", "serve", "--transport", "stdio"], env=env
    )
    args = {
        "problem": "gelu_tanh",
        "source": KERNEL.read_text(encoding="utf-8"),
        "block": [256],
        "grid": ["ceil_div(n, 256)"],
    }
    with anyio.fail_after(240):
        async with Client(params, cache=None) as client:
            result = await client.call_tool("benchmark_kernel", args)
            listing = await client.call_tool("list_problems", {})  # the server keeps serving
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert result.is_error
    # The SDK puts "Error executing tool benchmark_kernel: " before every tool error's own text.
    assert text.split(": ", 1)[-1].startswith(f"not installed: {said}"), text
    assert "Traceback" not in text and "ModuleNotFoundError" not in text
    assert not listing.is_error


def test_only_optional_packages_are_named_a_missing_dependency() -> None:
    named = missing_module(ModuleNotFoundError("No module named 'torch.nn'", name="torch.nn"))
    assert isinstance(named, MissingDependency) and named.piece == "torch"
    assert named.install == "pip install torch==2.13.0" and named.exit_code == 3
    assert missing_module(ModuleNotFoundError("No module named 'yaml'", name="yaml")) is None
