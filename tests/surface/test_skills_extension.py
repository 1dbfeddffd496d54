"""SEP-2640 `skills/list` and `skills/get`, on both protocol generations."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import MCPError
from mcp_surface_support import sha256, skills_get, skills_list, write_skill

import kernel_skills.surface.skills_ext as skills_ext

pytestmark = pytest.mark.anyio


async def test_skills_list_gives_verbatim_frontmatter_and_every_file_with_its_sha256(
    app, connect, skills_root: Path
):
    async with connect(app.server) as client:
        result = await skills_list(client)
    assert "nextCursor" not in result
    entries = {entry["uri"]: entry for entry in result["skills"]}
    assert sorted(entries) == ["skill://alpha/SKILL.md", "skill://beta/SKILL.md"]
    alpha = entries["skill://alpha/SKILL.md"]
    assert alpha["frontmatter"] == {
        "name": "alpha",
        "description": "Alpha helps with testing the MCP surface. Use when testing.",
        "license": "Apache-2.0",
        "metadata": {"version": "1.2", "team": "kernels"},
    }
    folder = skills_root / "alpha"
    assert alpha["resources"] == [
        {"uri": "skill://alpha/SKILL.md", "digest": sha256(folder / "SKILL.md")},
        {"uri": "skill://alpha/assets/logo.png", "digest": sha256(folder / "assets" / "logo.png")},
        {"uri": "skill://alpha/references/guide.md", "digest": sha256(folder / "references" / "guide.md")},
    ]


async def test_skills_list_pages_with_cursors_and_never_repeats_or_skips_a_skill(
    connect, make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "many"
    names = [f"skill-{i:02d}" for i in range(7)]
    for name in names:
        write_skill(root, name)
    monkeypatch.setattr(skills_ext, "SKILLS_PAGE", 3)
    app = make_app(root)
    async with connect(app.server) as client:
        seen: list[str] = []
        pages = 0
        cursor = None
        while True:
            result = await skills_list(client, cursor)
            pages += 1
            assert len(result["skills"]) <= 3
            seen += [entry["frontmatter"]["name"] for entry in result["skills"]]
            cursor = result.get("nextCursor")
            if cursor is None:
                break
    assert seen == names
    assert pages == 3


async def test_skills_list_refuses_a_cursor_it_did_not_issue(app, connect):
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await skills_list(client, cursor="not-a-cursor")
    assert caught.value.error.code == -32602
    assert "nextCursor" in caught.value.error.message


async def test_skills_get_returns_the_same_entry_as_the_listing(app, connect):
    async with connect(app.server) as client:
        listed = {entry["uri"]: entry for entry in (await skills_list(client))["skills"]}
        got = await skills_get(client, "skill://beta/SKILL.md")
    assert got["skill"] == listed["skill://beta/SKILL.md"]
    assert "nextCursor" not in got


@pytest.mark.parametrize(
    "uri",
    [
        "skill://gamma/SKILL.md",
        "skill://alpha/references/guide.md",  # a file, not a skill
        "skill://not-the-folder-name/SKILL.md",  # invalid, so not served
        "https://example.com/SKILL.md",
    ],
)
async def test_skills_get_answers_invalid_params_for_a_uri_that_is_not_a_served_skill(app, connect, uri):
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await skills_get(client, uri)
    assert caught.value.error.code == -32602
    assert "is not a skill this server serves" in caught.value.error.message
