"""The skill tools (list_skills, get_skill, read_skill_file): structured output and clear tool errors."""

from __future__ import annotations

import base64
import inspect
import json
import subprocess
import sys

import pytest
from mcp_surface_support import ALPHA_MD, PNG, server_env

import kernel_skills.errors as domain_errors
from kernel_skills.errors import KernelSkillsError, RefusedInput, SkillError
from kernel_skills.surface import errors as surface_errors

pytestmark = pytest.mark.anyio

SKILL_TOOLS = ("list_skills", "get_skill", "read_skill_file")


async def test_skill_tools_are_read_only_and_declare_an_output_schema(app, connect):
    async with connect(app.server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in SKILL_TOOLS:
        tool = tools[name]
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        assert tool.description


async def test_list_skills_shows_served_skills_and_the_invalid_ones_with_errors(app, connect):
    async with connect(app.server) as client:
        result = await client.call_tool("list_skills", {})
    assert not result.is_error
    data = result.structured_content
    assert [s["name"] for s in data["skills"]] == ["alpha", "beta"]
    alpha = data["skills"][0]
    assert alpha["uri"] == "skill://alpha/SKILL.md"
    assert alpha["stale"] is False
    assert alpha["tokens"]["body"] > 0
    [broken] = data["invalid"]
    assert broken["location"].endswith("broken")
    assert {issue["field"] for issue in broken["errors"]} >= {"name", "description"}


async def test_list_skills_query_filters_by_name_or_description(app, connect):
    async with connect(app.server) as client:
        result = await client.call_tool("list_skills", {"query": "BETA THINGS"})
    assert [s["name"] for s in result.structured_content["skills"]] == ["beta"]
    assert result.structured_content["total"] == 2


async def test_get_skill_returns_body_frontmatter_and_file_uris(app, connect):
    async with connect(app.server) as client:
        result = await client.call_tool("get_skill", {"name": "alpha"})
    assert not result.is_error
    data = result.structured_content
    assert data["body"] in ALPHA_MD and "the guide" in data["body"]
    assert data["frontmatter"]["metadata"] == {"version": "1.2", "team": "kernels"}
    assert data["base_uri"] == "skill://alpha"
    assert [(f["path"], f["uri"]) for f in data["files"]] == [
        ("SKILL.md", "skill://alpha/SKILL.md"),
        ("assets/logo.png", "skill://alpha/assets/logo.png"),
        ("references/guide.md", "skill://alpha/references/guide.md"),
    ]
    assert all(f["digest"].startswith("sha256:") for f in data["files"])


async def test_read_skill_file_returns_text_or_base64_blob(app, connect):
    async with connect(app.server) as client:
        text = await client.call_tool("read_skill_file", {"name": "alpha", "path": "references/guide.md"})
        binary = await client.call_tool("read_skill_file", {"name": "alpha", "path": "assets/logo.png"})
    assert "ALPHA-GUIDE-MARKER" in text.structured_content["text"]
    assert text.structured_content["blob_base64"] is None
    assert base64.b64decode(binary.structured_content["blob_base64"]) == PNG
    assert binary.structured_content["mime_type"] == "image/png"


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("get_skill", {"name": "alph"}, "did you mean alpha"),
        ("get_skill", {"name": "not-the-folder-name"}, "invalid and not served"),
        ("read_skill_file", {"name": "alpha", "path": "../../outside.md"}, "leaves the skill folder"),
        ("read_skill_file", {"name": "alpha", "path": "/etc/passwd"}, "relative"),
        ("read_skill_file", {"name": "alpha", "path": "references/nope.md"}, "nope.md"),
        ("read_skill_file", {"name": "alpha"}, "path"),
        ("get_skill", {}, "name"),
    ],
)
async def test_bad_tool_input_is_an_error_result_saying_what_was_wrong(
    app, connect, tool, arguments, expected
):
    async with connect(app.server) as client:
        result = await client.call_tool(tool, arguments)
        assert result.is_error
        [content] = result.content
        assert expected in content.text
        assert "Traceback" not in content.text
        assert "SECRET-OUTSIDE" not in content.text
        # the server keeps serving
        again = await client.call_tool("get_skill", {"name": "beta"})
        assert not again.is_error


def test_every_domain_error_has_a_translation_row():
    domain = {
        obj
        for obj in vars(domain_errors).values()
        if inspect.isclass(obj) and issubclass(obj, KernelSkillsError)
    }
    assert domain <= set(surface_errors.KINDS), f"unmapped: {domain - set(surface_errors.KINDS)}"


def test_domain_errors_become_tool_errors_and_protocol_errors_with_the_domain_message():
    refused = RefusedInput("path 'x/../..' leaves the folder; give a relative path")
    assert str(surface_errors.tool_error(refused)) == f"refused: {refused}"
    missing = surface_errors.protocol_error(SkillError("no skill named 'q'"), uri="skill://q/SKILL.md")
    assert missing.error.code == -32602
    assert missing.error.data == {"uri": "skill://q/SKILL.md"}


async def test_list_skills_tool_and_skills_list_json_return_the_same_document(make_app, connect, skills_root):
    # The same document with the same paths when the server may show them (--expose-paths).
    async with connect(make_app(skills_root, expose_paths=True).server) as client:
        tool = (await client.call_tool("list_skills", {})).structured_content
    command = [sys.executable, "-m", "kernel_skills.cli", "skills", "list", "--json", "--no-bundled"]
    cli = subprocess.run(
        [*command, "--skills-dir", str(skills_root)],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
    )
    assert cli.returncode == 1  # one folder is invalid
    assert json.loads(cli.stdout) == tool
    assert set(tool) == {"roots", "skills", "invalid", "total"}
