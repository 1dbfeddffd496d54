"""The official MCP Inspector's headless CLI (a real third-party client) against our stdio server.

Needs npx and the npm registry; skipped with the reason when either is missing. Runs with its own HOME
and npm cache under the pytest temp dir, so it neither reads nor writes the user's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_surface_support import server_env

pytestmark = pytest.mark.slow  # npx fetches and starts the Inspector for each call (~7-30 s each)

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
KERNEL_SKILLS = Path(sys.executable).parent / "kernel-skills"


@pytest.fixture(scope="session")
def npm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("npx") is None or shutil.which("npm") is None:
        pytest.skip("npx/npm not found: the MCP Inspector CLI needs Node.js")
    if not KERNEL_SKILLS.exists():
        pytest.skip(f"{KERNEL_SKILLS} not found: install the package (make install)")
    home = tmp_path_factory.mktemp("inspector-home")
    env = server_env(
        HOME=os.fspath(home),
        npm_config_cache=os.fspath(home / "npm-cache"),
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
        npm_config_fetch_retries="0",  # offline CI: fail fast, then skip
        npm_config_fetch_timeout="20000",
    )
    try:
        probe = subprocess.run(
            ["npm", "view", INSPECTOR, "version"], env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.skip("the npm registry did not answer within 60 s")
    if probe.returncode != 0:
        pytest.skip(f"the npm registry is unavailable: {probe.stderr.strip()[-300:]}")
    return env


def inspect(npm_env: dict[str, str], skills_root: Path, *method_args: str) -> dict:
    command = [
        "npx",
        "-y",
        INSPECTOR,
        "--cli",
        os.fspath(KERNEL_SKILLS),
        "serve",
        "--transport",
        "stdio",
        "--no-bundled",
        "--skills-dir",
        os.fspath(skills_root),
        *method_args,
    ]
    done = subprocess.run(
        command, env=npm_env, cwd=npm_env["HOME"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"inspector exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def test_inspector_lists_skill_resources(npm_env, skills_root: Path):
    listed = inspect(npm_env, skills_root, "--method", "resources/list")
    by_uri = {r["uri"]: r for r in listed["resources"]}
    assert sorted(by_uri) == ["skill://alpha/SKILL.md", "skill://beta/SKILL.md"]
    assert by_uri["skill://alpha/SKILL.md"]["mimeType"] == "text/markdown"
    assert by_uri["skill://alpha/SKILL.md"]["size"] > 0


def test_inspector_reads_a_reference_through_the_template(npm_env, skills_root: Path):
    read = inspect(
        npm_env, skills_root, "--method", "resources/read", "--uri", "skill://alpha/references/guide.md"
    )
    assert "ALPHA-GUIDE-MARKER" in read["contents"][0]["text"]


def test_inspector_calls_get_skill(npm_env, skills_root: Path):
    called = inspect(
        npm_env, skills_root, "--method", "tools/call", "--tool-name", "get_skill", "--tool-arg", "name=alpha"
    )
    assert not called.get("isError")
    assert called["structuredContent"]["name"] == "alpha"
