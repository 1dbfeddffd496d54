"""``completion/complete``: values for prompt arguments and for the ``skill://{name}/{+path}`` template.

- ``write_kernel`` ``problem``: problem names; ``optimise_kernel`` ``attempt``: the newest stored
  benchmark result ids of the problems this server serves; ``review_skill`` ``name``: served and
  invalid skill names.
- The template: ``name`` completes skill names, ``path`` the files of the skill named in the request's
  context (``context.arguments.name``), SKILL.md excluded (it has its own resource).

Matching is a case-insensitive prefix match, at most 100 values (``total`` and ``hasMore`` say how
many matched). A reference to a prompt or template this server does not have, or an argument it does
not take, is JSON-RPC -32602 (the spec's answer for an invalid reference).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import CompleteRequestParams, CompleteResult, Completion, PromptReference

from kernel_skills.surface import sdk
from kernel_skills.surface.errors import invalid_params
from kernel_skills.surface.index import SKILL_MD, URI_TEMPLATE
from kernel_skills.surface.prompts import (
    OPTIMISE_KERNEL,
    REVIEW_SKILL,
    WRITE_KERNEL,
    PromptSources,
    prompt_def,
)

MAX_VALUES = 100  # the spec's limit per response


def matching(candidates: list[str], prefix: str) -> Completion:
    needle = prefix.lower()
    found = [c for c in candidates if c.lower().startswith(needle)]
    return Completion(values=found[:MAX_VALUES], total=len(found), has_more=len(found) > MAX_VALUES)


class Completer:
    def __init__(self, sources: PromptSources) -> None:
        self.sources = sources

    async def candidates(self, params: CompleteRequestParams) -> list[str]:
        ref, argument = params.ref, params.argument.name
        context = (params.context.arguments if params.context else None) or {}
        if isinstance(ref, PromptReference):
            prompt = prompt_def(ref.name)
            if argument not in {a.name for a in prompt.arguments}:
                raise invalid_params(
                    f"prompt {prompt.name!r} has no argument {argument!r}; "
                    f"its arguments: {', '.join(a.name for a in prompt.arguments)}"
                )
            if prompt is WRITE_KERNEL:
                return await anyio.to_thread.run_sync(lambda: self.sources.problems().names())
            if prompt is OPTIMISE_KERNEL:
                return await anyio.to_thread.run_sync(lambda: _recent_result_ids(self.sources))
            if prompt is REVIEW_SKILL:
                return await self._skill_names(include_invalid=True)
            return []
        if ref.uri != URI_TEMPLATE:
            raise invalid_params(
                f"no resource template {ref.uri!r} on this server; the one template is {URI_TEMPLATE}"
            )
        if argument == "name":
            return await self._skill_names(include_invalid=False)
        if argument == "path":
            catalog = await self.sources.state.get_catalog()
            name = context.get("name", "")
            skill = next((s for s in catalog.skills() if s.name == name), None)
            return [] if skill is None else sorted(f.path for f in skill.files if f.path != SKILL_MD)
        raise invalid_params(f"the template {URI_TEMPLATE} has the variables name and path, not {argument!r}")

    async def _skill_names(self, *, include_invalid: bool) -> list[str]:
        catalog = await self.sources.state.get_catalog()
        names = [s.name for s in catalog.skills()]
        if include_invalid:
            names += sorted({i.name for i in catalog.invalid() if i.name and i.name not in names})
        return names


def _recent_result_ids(sources: PromptSources) -> list[str]:
    """The newest results for the problems this server serves (the DB may hold other servers')."""
    from kernel_skills.bench import recent_result_ids

    served = sources.problems().names()
    return [str(i) for i in recent_result_ids(MAX_VALUES, problems=served, path=sources.db_path())]


def register(server: MCPServer, sources: PromptSources) -> None:
    completer = Completer(sources)

    async def complete(ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams) -> CompleteResult:
        del ctx
        values = await completer.candidates(params)
        return CompleteResult(completion=matching(values, params.argument.value))

    sdk.lowlevel(server).add_request_handler("completion/complete", CompleteRequestParams, complete)
