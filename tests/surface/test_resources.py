"""Skills as MCP resources, on both protocol generations, through the SDK's in-memory Client."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from mcp import MCPError
from mcp_surface_support import ALPHA_MD, PNG

from kernel_skills.app import SERVER_NAME
from kernel_skills.surface.index import SKILLS_EXTENSION

pytestmark = pytest.mark.anyio


async def test_server_identifies_itself_and_explains_the_catalog_in_its_instructions(app, connect):
    async with connect(app.server) as client:
        assert client.server_info is not None and client.server_info.name == SERVER_NAME
        instructions = client.instructions or ""
        for word in ("get_skill", "read_skill_file", "skill://", "compile_kernel", "benchmark_kernel"):
            assert word in instructions


async def test_capabilities_advertise_list_changed_subscribe_and_the_skills_extension(app, connect, mode):
    async with connect(app.server) as client:
        caps = client.server_capabilities
        assert caps.resources is not None
        assert caps.resources.list_changed is True
        assert caps.resources.subscribe is True
        # 2025-11-25 has no `extensions` capability field; handshake-era clients see it under experimental.
        declared = caps.extensions if mode == "modern" else caps.experimental
        assert declared is not None and SKILLS_EXTENSION in declared


async def test_listing_has_one_skill_md_resource_per_served_skill_with_size(app, connect, skills_root):
    async with connect(app.server) as client:
        listed = (await client.list_resources()).resources
    by_uri = {r.uri: r for r in listed}
    assert sorted(by_uri) == ["skill://alpha/SKILL.md", "skill://beta/SKILL.md"]
    alpha = by_uri["skill://alpha/SKILL.md"]
    assert alpha.name == "alpha"
    assert alpha.description == "Alpha helps with testing the MCP surface. Use when testing."
    assert alpha.mime_type == "text/markdown"
    assert alpha.size == (skills_root / "alpha" / "SKILL.md").stat().st_size


async def test_modern_list_results_carry_the_2026_envelope(app, connect, mode):
    async with connect(app.server) as client:
        listed = await client.list_resources()
        read = await client.read_resource("skill://beta/SKILL.md")
    if mode == "modern":
        for result in (listed, read):
            assert (
                result.meta is not None
                and result.meta["io.modelcontextprotocol/serverInfo"]["name"] == SERVER_NAME
            )
            assert result.result_type == "complete"


async def test_template_covers_every_other_file_of_a_skill(app, connect):
    async with connect(app.server) as client:
        templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["skill://{name}/{+path}"]


async def test_reading_skill_md_returns_the_whole_file_as_markdown(app, connect):
    async with connect(app.server) as client:
        result = await client.read_resource("skill://alpha/SKILL.md")
    [content] = result.contents
    assert content.uri == "skill://alpha/SKILL.md"
    assert content.mime_type == "text/markdown"
    assert content.text == ALPHA_MD


async def test_reading_a_reference_through_the_template_returns_its_text(app, connect):
    async with connect(app.server) as client:
        result = await client.read_resource("skill://alpha/references/guide.md")
    [content] = result.contents
    assert "ALPHA-GUIDE-MARKER" in content.text
    assert content.mime_type == "text/markdown"


async def test_binary_file_comes_back_as_a_base64_blob(app, connect):
    async with connect(app.server) as client:
        result = await client.read_resource("skill://alpha/assets/logo.png")
    [content] = result.contents
    assert content.mime_type == "image/png"
    assert base64.b64decode(content.blob) == PNG


@pytest.mark.parametrize(
    "uri",
    [
        "skill://alpha/../outside.md",
        "skill://alpha/references/../../outside.md",
        "skill://alpha/%2E%2E/outside.md",
        "skill://alpha//etc/passwd",
        "skill://alpha/escape.md",  # a symlink pointing out of the skill folder
    ],
)
async def test_paths_leaving_the_skill_folder_are_refused_with_an_error_not_content(
    app, connect, skills_root: Path, uri: str
):
    os.symlink(skills_root.parent / "outside.md", skills_root / "alpha" / "escape.md")
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)
        assert "SECRET-OUTSIDE" not in str(caught.value)
        assert caught.value.error.code == -32602
        # the server keeps serving after a refusal
        assert (await client.read_resource("skill://beta/SKILL.md")).contents


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("skill://gamma/SKILL.md", "no skill named 'gamma'"),
        ("skill://alpha/references/missing.md", "missing.md"),
        ("skill://not-the-folder-name/SKILL.md", "invalid and not served"),
        ("file:///etc/passwd", "not a skill URI"),
        ("skill://alpha", "needs both a skill name and a file path"),
    ],
)
async def test_unknown_or_malformed_uris_get_invalid_params_saying_why(app, connect, uri, expected):
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource(uri)
    assert caught.value.error.code == -32602
    assert expected in caught.value.error.message
