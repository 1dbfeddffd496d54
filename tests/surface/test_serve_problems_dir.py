"""`serve --problems-dir` reaches the bench tools: a trusted user problem shows up in list_problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build_server

pytestmark = pytest.mark.anyio

SAMPLE_PROBLEMS = Path(__file__).resolve().parents[1] / "bench" / "sample_problems"


async def test_a_user_problem_from_problems_dirs_is_listed_by_the_server() -> None:
    server = build_server(
        ServerConfig(bundled=False, use_env=False, problems_dirs=[SAMPLE_PROBLEMS]), RUNTIME
    )
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
