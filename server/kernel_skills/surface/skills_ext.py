"""SEP-2640, the MCP skills extension (``io.modelcontextprotocol/skills``, draft of 2026-04-23).

- ``skills/list``: ``{"skills": [{"uri", "frontmatter", "resources": [{"uri", "digest"}]}], "nextCursor"?}``,
  frontmatter verbatim as JSON, every file of the skill with a ``sha256:<hex>`` digest, SKILL.md's entry
  included; an entry is never split across pages. On 2026-07-28 it also carries ``ttlMs``/``cacheScope``.
- ``skills/get``: ``{"skill": <entry>}`` for the SKILL.md URI in ``params.uri``; -32602 for a URI that is
  not a skill this server serves.
- Capability: ``extensions["io.modelcontextprotocol/skills"] = {}`` (no ``directoryRead``: we do not
  implement the optional ``resources/directory/read``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp_types import RequestParams

from kernel_skills.surface.errors import invalid_params
from kernel_skills.surface.index import SKILLS_EXTENSION, SKILLS_PAGE
from kernel_skills.surface.skills import cache_fields, page_result
from kernel_skills.surface.state import SkillsState


class SkillsListParams(RequestParams):
    cursor: str | None = None


class SkillsGetParams(RequestParams):
    uri: str


class SkillsExtension(Extension):
    identifier = SKILLS_EXTENSION

    def __init__(self, state: SkillsState) -> None:
        self.state = state

    def settings(self) -> dict[str, Any]:
        return {}

    def methods(self) -> Sequence[MethodBinding]:
        return (
            MethodBinding("skills/list", SkillsListParams, self.list_skills),
            MethodBinding("skills/get", SkillsGetParams, self.get_skill),
        )

    async def list_skills(
        self, ctx: ServerRequestContext[Any, Any], params: SkillsListParams
    ) -> dict[str, Any]:
        index = await self.state.get_index()
        return page_result(ctx, "skills", index.entries_page, params.cursor, SKILLS_PAGE)

    async def get_skill(self, ctx: ServerRequestContext[Any, Any], params: SkillsGetParams) -> dict[str, Any]:
        index = await self.state.get_index()
        entry = index.entry_for_uri(params.uri)
        if entry is None:
            served = ", ".join(index.names[:5]) or "none"
            raise invalid_params(
                f"{params.uri!r} is not a skill this server serves; skills/get takes the URI of a served "
                f"skill's SKILL.md, skill://<name>/SKILL.md (served skills include: {served}; "
                "skills/list has them all)",
                uri=params.uri,
            )
        return {"skill": entry, **cache_fields(ctx, cacheable=False)}
