"""Fixtures for the MCP surface tests: small skill folders in tmp_path, servers built from them, and
clients on both protocol generations (``modern`` = 2026-07-28 via ``server/discover``, ``legacy`` = the
``initialize`` handshake)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_surface_support import ALPHA_MD, PNG, write_skill
from tests.shared_runtime import RUNTIME

from kernel_skills.app import App, ServerConfig, build


@pytest.fixture
def skills_root(tmp_path: Path) -> Path:
    """alpha (frontmatter extras, a reference, a binary asset), beta, and one invalid folder."""
    root = tmp_path / "skills"
    alpha = root / "alpha"
    (alpha / "references").mkdir(parents=True)
    (alpha / "assets").mkdir()
    (alpha / "SKILL.md").write_text(ALPHA_MD, encoding="utf-8")
    (alpha / "references" / "guide.md").write_text("# Guide\n\nALPHA-GUIDE-MARKER\n", encoding="utf-8")
    (alpha / "assets" / "logo.png").write_bytes(PNG)
    write_skill(root, "beta", "Beta does beta things. Use for beta work.")
    bad = root / "broken"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname: not-the-folder-name\n---\nno description\n", encoding="utf-8")
    (tmp_path / "outside.md").write_text("SECRET-OUTSIDE", encoding="utf-8")
    return root


@pytest.fixture
def make_app() -> Callable[..., App]:
    def make(root: Path, **overrides: Any) -> App:
        config = ServerConfig(skills_dirs=[root], bundled=False, use_env=False, **overrides)
        return build(config, RUNTIME)

    return make


@pytest.fixture
def app(skills_root: Path, make_app: Callable[..., App]) -> App:
    return make_app(skills_root)


@pytest.fixture(params=["modern", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def connect(mode: str) -> Callable[..., Any]:
    """``async with connect(server) as client`` on the generation this test is parametrised with."""

    @asynccontextmanager
    async def open_client(server: Any, **kwargs: Any) -> AsyncIterator[Client]:
        client_mode = "legacy" if mode == "legacy" else "auto"
        async with Client(server, mode=client_mode, cache=None, **kwargs) as client:
            expected = "2025-11-25" if mode == "legacy" else "2026-07-28"
            assert client.protocol_version == expected
            yield client

    return open_client
