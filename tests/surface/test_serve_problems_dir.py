"""`serve --problems-dir` reaches the bench tools: a trusted user problem shows up in list_problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from kernel_skills.app import ServerConfig, build_server

pytestmark = pytest.mark.anyio

USER_PROBLEM = """
from kernel_skills.bench.spec import Pointer, Scalar, abi_bytes

NAME = "scale2"
DESCRIPTION = "out = 2 * x"
ABI = [Pointer("x", "f32", ("n",)), Pointer("out", "f32", ("n",), output=True), Scalar("n", "int")]
SHAPES = {"big": [{"n": 1 << 20}], "ragged": [{"n": 1001}]}
TOLERANCE = {"f32": (1e-6, 1e-6)}


def make_inputs(sizes, generator, device):
    import torch
    return {"x": torch.randn((sizes["n"],), generator=generator, device=device)}


def reference(inputs, sizes):
    return {"out": 2 * inputs["x"].double()}


def torch_op(inputs, sizes):
    return {"out": 2 * inputs["x"]}


def flops(sizes):
    return sizes["n"]


def bytes_moved(sizes):
    return abi_bytes(ABI, sizes)
"""


async def test_a_user_problem_from_problems_dirs_is_listed_by_the_server(tmp_path: Path) -> None:
    (tmp_path / "scale2.py").write_text(USER_PROBLEM, encoding="utf-8")
    server = build_server(ServerConfig(bundled=False, use_env=False, problems_dirs=[tmp_path]))
    async with Client(server) as client:
        result = await client.call_tool("list_problems", {})
    assert not result.is_error
    names = [problem["name"] for problem in result.structured_content["problems"]]
    assert "scale2" in names
    assert "rmsnorm" in names


def test_serve_accepts_problems_dir_on_the_command_line() -> None:
    from kernel_skills.cli import build_parser

    args = build_parser().parse_args(["serve", "--problems-dir", "/tmp/a", "--problems-dir", "/tmp/b"])
    assert args.problems_dir == [Path("/tmp/a"), Path("/tmp/b")]
