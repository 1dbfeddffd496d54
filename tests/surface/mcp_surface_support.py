"""Helpers shared by the MCP surface tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.abc
import mcp_types as types
from mcp import Client
from pydantic import TypeAdapter

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff\xfe"

ALPHA_MD = """\
---
name: alpha
description: Alpha helps with testing the MCP surface. Use when testing.
license: Apache-2.0
metadata:
  version: "1.2"
  team: kernels
---
# Alpha

Read [the guide](references/guide.md) when you need details.
"""


def skill_md(name: str, description: str = "A test skill.", body: str = "Body.\n") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


def write_skill(root: Path, name: str, description: str = "A test skill.", body: str = "Body.\n") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(skill_md(name, description, body), encoding="utf-8")
    return folder


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


# --- SEP-2640 requests (the SDK has no client helpers for them yet) -----------------------------------


class SkillsListParams(types.RequestParams):
    cursor: str | None = None


class SkillsListRequest(types.Request[SkillsListParams, Literal["skills/list"]]):
    method: Literal["skills/list"] = "skills/list"


class SkillsGetParams(types.RequestParams):
    uri: str


class SkillsGetRequest(types.Request[SkillsGetParams, Literal["skills/get"]]):
    method: Literal["skills/get"] = "skills/get"


ANY_DICT = TypeAdapter(dict[str, Any])


async def skills_list(client: Client, cursor: str | None = None) -> dict[str, Any]:
    return await client.session.send_request(
        SkillsListRequest(params=SkillsListParams(cursor=cursor)), ANY_DICT
    )


async def skills_get(client: Client, uri: str) -> dict[str, Any]:
    return await client.session.send_request(SkillsGetRequest(params=SkillsGetParams(uri=uri)), ANY_DICT)


# --- real server processes -------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "kernel_skills.cli", "serve"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KERNEL_SKILLS_TOKEN", "KERNEL_SKILLS_PATH")}
    env.update(extra)
    return env


@asynccontextmanager
async def http_server(args: list[str], env: dict[str, str], port: int) -> AsyncIterator[anyio.abc.Process]:
    """Start `kernel-skills serve --transport http` and wait (with a deadline) until its port accepts."""
    command = [*SERVE, "--transport", "http", "--port", str(port), *args]
    async with await anyio.open_process(command, env=env, stdout=subprocess.DEVNULL) as process:
        try:
            with anyio.fail_after(30):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError(f"server exited early with {process.returncode}")
                    try:
                        stream = await anyio.connect_tcp("127.0.0.1", port)
                    except OSError:
                        await anyio.sleep(0.05)  # polling the port, bounded by the deadline above
                        continue
                    await stream.aclose()
                    break
            yield process
        finally:
            if process.returncode is None:
                process.terminate()
            with anyio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
