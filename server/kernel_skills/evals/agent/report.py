"""The agentic eval's report from its episodes: totals per condition, the lifts, what moved."""

from __future__ import annotations

from typing import Any

from kernel_skills.evals.agent.models import (
    AGENT_CONDITIONS,
    AgentCondition,
    AgentEvalReport,
    AssertionMove,
    ConditionTotals,
    Episode,
)
from kernel_skills.evals.endpoint import Usage
from kernel_skills.evals.tally import assertion_tallies, tally_fields


def condition_totals(episodes: list[Episode]) -> ConditionTotals:
    calls = [c for e in episodes for c in e.tool_calls]
    by_tool: dict[str, int] = {}
    for c in calls:
        by_tool[c.name] = by_tool.get(c.name, 0) + 1
    usage = Usage()
    for e in episodes:
        usage = usage + e.usage
    wall = sum(e.wall_s for e in episodes)
    return ConditionTotals(
        **tally_fields(episodes),
        episodes=len(episodes),
        turns_mean=sum(e.turns for e in episodes) / len(episodes) if episodes else 0.0,
        tool_calls=dict(sorted(by_tool.items())),
        tool_errors=sum(not c.ok for c in calls),
        malformed_arguments=sum(c.note == "malformed_arguments" for c in calls),
        unknown_tools=sum(c.note == "unknown_tool" for c in calls),
        loops=sum(c.note == "loop" for c in calls),
        turn_limit=sum(e.ended == "turn_limit" for e in episodes),
        usage=usage,
        wall_s_total=wall,
        wall_s_mean=wall / len(episodes) if episodes else 0.0,
        assertions=assertion_tallies(episodes),
    )


def _moves(conditions: dict[str, ConditionTotals]) -> list[AssertionMove]:
    names = sorted({n for t in conditions.values() for n in t.assertions})
    moves = []
    for name in names:
        passed = {c: t.assertions[name].passed if name in t.assertions else 0 for c, t in conditions.items()}
        judged = {
            c: (t.assertions[name].passed + t.assertions[name].failed) if name in t.assertions else 0
            for c, t in conditions.items()
        }
        if len(set(passed.values())) > 1:
            moves.append(AssertionMove(assertion=name, passed=passed, judged=judged))
    return moves


def _tool_calling(episodes: list[Episode], unsupported: str | None) -> tuple[str, str]:
    if unsupported is not None:
        return "unsupported", unsupported
    agentic = [e for e in episodes if e.condition == "skill_and_tools"]
    if not agentic:
        return "not_tried", ""
    native = sum(1 for e in agentic for c in e.tool_calls if not c.from_text)
    if native:
        return "supported", f"{native} tool calls in {len(agentic)} episodes"
    text_calls = sum(e.plain_text_tool_calls for e in agentic)
    if text_calls and any(e.tool_calls for e in agentic):
        return "plain_text", (
            f"the model wrote {text_calls} tool call(s) as plain text and the endpoint parsed none; "
            "--text-tool-calls ran them as calls"
        )
    if text_calls:
        return "plain_text", (
            f"the model wrote {text_calls} tool call(s) as plain text and the endpoint returned no "
            "tool_calls: "
            "it does not parse tool calls for this model (llama.cpp's server needs --jinja)"
        )
    return "unused", "the model was offered the tools and called none"


def _notes(
    max_turns: int, text_tool_calls: bool, episodes: list[Episode], unsupported: str | None
) -> list[str]:
    notes = [
        "bare: no skill, no tools; skill_in_context: the SKILL.md body in the system prompt, no tools; "
        "skill_and_tools: the skill served through list_skills/get_skill/read_skill_file, with "
        "compile_kernel and benchmark_kernel, through the real MCP client and server",
        f"a turn is one model request; skill_and_tools episodes get at most {max_turns} turns, then "
        "one request without tools for the final kernel",
        "an episode passes when every assertion on its final kernel passed (not-judged never counts as "
        "passed)",
    ]
    if unsupported is not None:
        notes.append(f"skill_and_tools was not run: {unsupported}")
    if text_tool_calls:
        notes.append(
            "--text-tool-calls: tool calls the model wrote as JSON in its text were run as calls "
            f"({sum(e.plain_text_tool_calls for e in episodes)} replies)"
        )
    return notes


def build_report(
    episodes: list[Episode],
    unsupported: str | None,
    *,
    conditions: tuple[AgentCondition, ...],
    wall_time_s: float,
    **header: Any,
) -> AgentEvalReport:
    """The report; ``header``: the fields that describe the eval (skill, model, base_url, runs, ...)."""
    episodes = sorted(episodes, key=lambda e: (e.case, AGENT_CONDITIONS.index(e.condition), e.run))
    totals = {c: condition_totals([e for e in episodes if e.condition == c]) for c in conditions}
    bare = totals["bare"].pass_rate if "bare" in totals else 0.0
    mode, detail = _tool_calling(episodes, unsupported)
    return AgentEvalReport(
        **header,
        conditions=totals,
        lift_skill_in_context=totals["skill_in_context"].pass_rate - bare
        if "skill_in_context" in totals
        else 0,
        lift_skill_and_tools=totals["skill_and_tools"].pass_rate - bare if "skill_and_tools" in totals else 0,
        moved=_moves(totals),
        tool_calling=mode,  # type: ignore[arg-type]
        tool_calling_detail=detail,
        episodes=episodes,
        wall_time_s=wall_time_s,
        notes=_notes(header["max_turns"], header["text_tool_calls"], episodes, unsupported),
    )
