"""Skills as MCP resources and as tools (the mirror for clients that cannot read resources).

Resources: one ``skill://<name>/SKILL.md`` per served skill in ``resources/list`` (name, description,
``text/markdown``, size), the template ``skill://{name}/{+path}`` for every other file. The resource
handlers are installed on the low-level server so the listing comes from the precomputed index and
reads go straight to ``Catalog.read_file`` (which owns containment).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ToolAnnotations,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from kernel_skills.catalog import CatalogListing, parse_skill_uri
from kernel_skills.catalog import list_skills as domain_list_skills
from kernel_skills.errors import KernelSkillsError, RefusedInput
from kernel_skills.surface import sdk
from kernel_skills.surface.errors import protocol_error, tool_errors
from kernel_skills.surface.fastpath import FastPath
from kernel_skills.surface.index import RESOURCES_PAGE, SKILL_MD, URI_TEMPLATE, skill_uri
from kernel_skills.surface.models import SkillDetail, SkillFileContent, SkillFileEntry
from kernel_skills.surface.state import SkillsState

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

TEMPLATE = {
    "uriTemplate": URI_TEMPLATE,
    "name": "skill-file",
    "title": "A file of a skill",
    "description": (
        "Any file of a served skill other than its SKILL.md, addressed by its path relative to the skill "
        "folder (e.g. skill://<name>/references/guide.md). Read one only when the SKILL.md points you to it."
    ),
}


FAST_METHODS = frozenset({"resources/list", "resources/read", "skills/list", "skills/get"})


def cache_fields(ctx: ServerRequestContext[Any, Any], *, cacheable: bool = True) -> dict[str, Any]:
    """What a 2026-07-28 result must carry: resultType, and for cacheable methods ttlMs/cacheScope
    (0 ms: the catalog hot-reloads). Handshake-era results carry none of these."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return {}
    if not cacheable:
        return {"resultType": "complete"}
    return {"resultType": "complete", "ttlMs": 0, "cacheScope": "private"}


def page_result(
    ctx: ServerRequestContext[Any, Any],
    key: str,
    pager: Callable[[str | None, int], tuple[list[dict[str, Any]], str | None]],
    cursor: str | None,
    size: int,
) -> dict[str, Any]:
    """One page of a paginated list result (``resources/list``, ``skills/list``) under ``key``, with
    ``nextCursor`` unless it is the last page; a bad cursor is a JSON-RPC invalid-params error."""
    try:
        page, next_cursor = pager(cursor, size)
    except RefusedInput as exc:
        raise protocol_error(exc) from exc
    result: dict[str, Any] = {key: page, **cache_fields(ctx)}
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result


def register(server: MCPServer, state: SkillsState) -> None:
    _register_resources(server, state)
    _register_tools(server, state)


# --- resources --------------------------------------------------------------------------------------


def _register_resources(server: MCPServer, state: SkillsState) -> None:
    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> dict[str, Any]:
        index = await state.get_index()
        return page_result(ctx, "resources", index.resources_page, params.cursor, RESOURCES_PAGE)

    async def list_templates(
        ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> dict[str, Any]:
        return {"resourceTemplates": [TEMPLATE], **cache_fields(ctx)}

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: ReadResourceRequestParams
    ) -> dict[str, Any]:
        uri = params.uri
        try:
            name, path = parse_skill_uri(uri)
            content = (await state.get_catalog()).read_file(name, path)
        except KernelSkillsError as exc:
            raise protocol_error(exc, uri=uri) from exc
        item: dict[str, Any] = {"uri": uri, "mimeType": content.mime_type}
        if content.text is not None:
            item["text"] = content.text
        else:
            item["blob"] = base64.b64encode(content.blob or b"").decode("ascii")
        return {"contents": [item], **cache_fields(ctx)}

    low = sdk.lowlevel(server)
    low.add_request_handler("resources/list", PaginatedRequestParams, list_resources)
    low.add_request_handler("resources/templates/list", PaginatedRequestParams, list_templates)
    low.add_request_handler("resources/read", ReadResourceRequestParams, read_resource)
    low.middleware.append(FastPath(low, state.notifier, FAST_METHODS))


# --- tools ------------------------------------------------------------------------------------------


def _register_tools(server: MCPServer, state: SkillsState) -> None:
    @tool_errors
    async def list_skills(query: str | None = None) -> CatalogListing:
        """List the served skills: name, description, SKILL.md URI, estimated tokens and whether it is stale.

        Skill folders that failed validation are listed under `invalid` with their errors. Optional
        `query` keeps skills whose name or description contains it (case-insensitive). Load one with
        get_skill(name) only when its description matches the task.
        """
        return domain_list_skills(await state.get_catalog(), query)

    @tool_errors
    async def get_skill(name: str) -> SkillDetail:
        """Load one skill: its SKILL.md body and frontmatter, plus every file it has, with URIs.

        Follow the body's instructions; open a listed file with read_skill_file(name, path) only when
        the body points you to it.
        """
        skill = (await state.get_catalog()).get(name)
        return SkillDetail(
            name=skill.name,
            description=skill.description,
            uri=skill_uri(skill.name),
            base_uri=skill_uri(skill.name, "")[:-1],
            frontmatter=skill.frontmatter,
            body=skill.body,
            files=[
                SkillFileEntry(
                    path=f.path,
                    uri=skill_uri(skill.name, f.path),
                    size=f.size,
                    mime_type=f.mime_type,
                    digest=f.digest,
                )
                for f in sorted(skill.files, key=lambda f: (f.path != SKILL_MD, f.path))
            ],
            tokens=skill.tokens,
            stale=skill.stale,
            stale_errors=skill.stale_errors,
            warnings=skill.warnings,
        )

    @tool_errors
    async def read_skill_file(name: str, path: str) -> SkillFileContent:
        """Read one file of a skill by its path relative to the skill folder (e.g. references/guide.md).

        Text files come back in `text`; binary files base64-encoded in `blob_base64`. Paths must stay
        inside the skill folder.
        """
        content = (await state.get_catalog()).read_file(name, path)
        return SkillFileContent(
            name=content.name,
            path=content.path,
            uri=skill_uri(content.name, content.path),
            mime_type=content.mime_type,
            size=content.size,
            text=content.text,
            blob_base64=None if content.blob is None else base64.b64encode(content.blob).decode("ascii"),
        )

    server.add_tool(list_skills, title="List skills", annotations=READ_ONLY)
    server.add_tool(get_skill, title="Load a skill", annotations=READ_ONLY)
    server.add_tool(read_skill_file, title="Read a skill file", annotations=READ_ONLY)
