"""One agentic episode: a case worked under one condition, its tool calls run, its final kernel judged.

Small models call tools badly. Arguments that are not a JSON object are answered here with a clear
"refused" (they cannot be sent as a tool call at all); everything else, unknown tool names and
arguments of the wrong shape included, goes to the server and its normal error goes back to the model.
A third identical call in a row is not run (a loop) and the model is told so. At the turn limit the
model is asked once, without tools, for its final kernel. The final kernel is the last answer's code,
or (when that has none) the last source the model compiled or benchmarked.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from pydantic import BaseModel

from kernel_skills.errors import EndpointError, RefusedInput, ToolsUnsupported
from kernel_skills.evals.agent.client import AgentReply, ToolCall, ToolChatClient
from kernel_skills.evals.agent.models import AGENT_TOOLS, AgentCondition, Episode, ToolCallRecord
from kernel_skills.evals.agent.toolbox import Toolbox, ToolboxFactory
from kernel_skills.evals.assertions import judge_answer
from kernel_skills.evals.code_checks import extract_code
from kernel_skills.evals.endpoint import Usage
from kernel_skills.evals.skill_meta import TestCase
from kernel_skills.evals.skill_text import BASE_SYSTEM_PROMPT, system_prompt
from kernel_skills.evals.tally import no_answer_score

if TYPE_CHECKING:
    from kernel_skills.runtime import Runtime

DEFAULT_MAX_TURNS = 6
MAX_TOOL_RESULT_CHARS = 8000
LOOP_REPEATS = 3  # the third identical call in a row is not run
TOOLS_PROMPT = (
    "You can call tools of the kernel-skills MCP server. {instructions}\n"
    "Work in this order: call get_skill to read the skill that fits the task; write the kernel; check it "
    "with compile_kernel and fix every error it reports; check it with benchmark_kernel (the problem "
    "named in the task, the launch it gives) and fix what fails. When you are done, reply without a tool "
    "call: your final answer, with the complete kernel in one ```cuda block."
)
FINAL_REQUEST = (
    "Turn limit reached: no more tool calls. Give your final answer now, with the complete kernel in one "
    "```cuda block."
)
_TEXT_CALL = re.compile(r'"name"\s*:\s*"(?:' + "|".join(AGENT_TOOLS) + r')"')


class Sampling(BaseModel):
    temperature: float | None = 0.0
    max_tokens: int | None = None
    seed: int | None = None


def _final(answer: str, last_source: str | None) -> tuple[str, str]:
    if extract_code(answer) is not None:
        return answer, "answer"
    if last_source:
        return f"{answer}\n\n```cuda\n{last_source}\n```", "last_source"
    return answer, "none" if not answer.strip() else "answer"


_JSON_BLOCK = re.compile(r"```(?:json)?\s*\n(\{.*?\})\s*```", re.DOTALL)


def parse_text_calls(text: str, turn: int) -> list[ToolCall]:
    """Tool calls a model wrote as JSON in its text (``{"name": ..., "arguments": {...}}``, fenced or
    the whole reply), for ``--text-tool-calls``: only names of the agent's tools are taken."""
    candidates = [m.group(1) for m in _JSON_BLOCK.finditer(text)] or [text.strip()]
    calls = []
    for n, candidate in enumerate(candidates):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("name") in AGENT_TOOLS:
            arguments = data.get("arguments", data.get("parameters", {}))
            raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
            calls.append(ToolCall(id=f"text_{turn}_{n}", name=data["name"], arguments=raw))
    return calls


def _tool_message(call_id: str, text: str) -> dict[str, Any]:
    if len(text) > MAX_TOOL_RESULT_CHARS:
        text = text[:MAX_TOOL_RESULT_CHARS] + f"\n[... cut at {MAX_TOOL_RESULT_CHARS} characters]"
    return {"role": "tool", "tool_call_id": call_id, "content": text}


class EndpointTally:
    """Replies the endpoint gave in this eval, over all episodes (one error before any is fatal)."""

    def __init__(self) -> None:
        self.replies = 0


@dataclass(frozen=True)
class EpisodeSetup:
    """What every episode of an eval shares."""

    client: ToolChatClient
    model: str
    skill_body_prompt: str  # the skill_in_context condition's system prompt
    toolbox_factory: ToolboxFactory | None
    sampling: Sampling
    max_turns: int
    text_tool_calls: bool = False
    tally: EndpointTally = field(default_factory=EndpointTally)
    runtime: Runtime | None = None  # compiles and benchmarks the final kernel's code assertions


class _EpisodeRun:
    def __init__(self, setup: EpisodeSetup, case: TestCase) -> None:
        self.setup = setup
        self.case = case
        self.usage = Usage()
        self.turns = 0
        self.calls: list[ToolCallRecord] = []
        self.plain_text_calls = 0
        self.last_source: str | None = None
        self.trace: str | None = None

    async def ask(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> AgentReply:
        self.turns += 1
        setup = self.setup
        reply = await anyio.to_thread.run_sync(
            lambda: setup.client.chat_tools(setup.model, messages, tools, **setup.sampling.model_dump())
        )
        setup.tally.replies += 1
        if reply.usage is not None:
            self.usage = self.usage + reply.usage
        if tools and not reply.tool_calls and _TEXT_CALL.search(reply.text):
            self.plain_text_calls += 1
            if self.setup.text_tool_calls:
                reply.tool_calls = parse_text_calls(reply.text, self.turns)
        return reply

    async def without_tools(self, system: str) -> tuple[str, str]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": self.case.prompt()}]
        return (await self.ask(messages, None)).text, "answered"

    async def with_tools(self, system: str, toolbox: Toolbox) -> tuple[str, str]:
        specs = await toolbox.list_tools()
        tools = [s.openai() for s in specs]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": self.case.prompt()},
        ]
        history: list[tuple[str, str]] = []
        while self.turns < self.setup.max_turns:
            reply = await self.ask(messages, tools)
            if not reply.tool_calls:
                return reply.text, "answered"
            messages.append(_assistant_message(reply))
            for call in reply.tool_calls:
                text = await self._run_call(call, toolbox, history)
                messages.append(_tool_message(call.id, text))
        messages.append({"role": "user", "content": FINAL_REQUEST})
        return (await self.ask(messages, None)).text, "turn_limit"

    async def _run_call(self, call: ToolCall, toolbox: Toolbox, history: list[tuple[str, str]]) -> str:
        record = ToolCallRecord(
            turn=self.turns,
            name=call.name,
            ok=False,
            arguments_chars=len(call.arguments),
            from_text=call.id.startswith("text_"),
        )
        self.calls.append(record)
        try:
            arguments = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError as exc:
            arguments, problem = None, f"not valid JSON ({exc})"
        else:
            problem = None if isinstance(arguments, dict) else f"a JSON {type(arguments).__name__}"
        if problem is not None or not isinstance(arguments, dict):
            record.note, record.error = (
                "malformed_arguments",
                f"refused: the arguments of {call.name!r} are {problem}; send one JSON object that matches "
                "the tool's parameters",
            )
            return record.error
        key = (call.name, json.dumps(arguments, sort_keys=True))
        history.append(key)
        if len(history) >= LOOP_REPEATS and all(h == key for h in history[-LOOP_REPEATS:]):
            record.note, record.error = (
                "loop",
                f"not run: this is call {LOOP_REPEATS} in a row of {call.name} with the same arguments and "
                "it would answer the same. Change the arguments, or give your final answer.",
            )
            return record.error
        if call.name in ("compile_kernel", "benchmark_kernel") and isinstance(arguments.get("source"), str):
            self.last_source = arguments["source"]
        outcome = await toolbox.call(call.name, arguments)
        record.ok = not outcome.is_error
        if outcome.is_error:
            record.error = outcome.text[:500]
            known = call.name in AGENT_TOOLS or call.name in ("list_problems", "list_results")
            record.note = "server_error" if known else "unknown_tool"
        return f"error: {outcome.text}" if outcome.is_error else outcome.text

    def episode(
        self, condition: AgentCondition, index: int, run: int, start: float, **fields: Any
    ) -> Episode:
        """This run as the report's ``Episode``; ``fields``: how it ended (score, answer or error)."""
        return Episode(
            case=index,
            condition=condition,
            run=run,
            turns=self.turns,
            tool_calls=self.calls,
            plain_text_tool_calls=self.plain_text_calls,
            usage=self.usage,
            wall_s=time.monotonic() - start,
            trace=self.trace,
            **fields,
        )


def _assistant_message(reply: AgentReply) -> dict[str, Any]:
    calls = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in reply.tool_calls
    ]
    return {"role": "assistant", "content": reply.text or None, "tool_calls": calls}


async def _converse(episode: _EpisodeRun, condition: AgentCondition, client_name: str) -> tuple[str, str]:
    """(the final answer, how the episode ended) under ``condition``."""
    setup = episode.setup
    if condition == "bare":
        return await episode.without_tools(system_prompt(None))
    if condition == "skill_in_context":
        return await episode.without_tools(setup.skill_body_prompt)
    if setup.toolbox_factory is None:
        raise RefusedInput("the skill_and_tools condition needs a toolbox")
    failure: EndpointError | None = None
    answer, ended = "", "error"
    # The endpoint's error is raised outside the client's task group (which would wrap it).
    async with setup.toolbox_factory(client_name) as toolbox:
        system = f"{BASE_SYSTEM_PROMPT}\n\n" + TOOLS_PROMPT.format(instructions=toolbox.instructions)
        try:
            answer, ended = await episode.with_tools(system, toolbox)
        except EndpointError as exc:
            failure = exc
        episode.trace = toolbox.trace
    if failure is not None:
        raise failure
    return answer, ended


async def run_episode(
    setup: EpisodeSetup, case: TestCase, condition: AgentCondition, *, index: int, run: int
) -> Episode:
    """One episode; an endpoint error ends it as "no answer", unless the endpoint is unusable (refused,
    unreachable, a 4xx on the episode's first request, any error before the eval's first answer)."""
    start = time.monotonic()
    episode = _EpisodeRun(setup, case)
    try:
        answer, ended = await _converse(episode, condition, f"eval-case{index}-run{run}/{setup.model}")
    except ToolsUnsupported:
        raise
    except EndpointError as exc:
        never_answered = setup.tally.replies == 0
        if not exc.timed_out and (never_answered or (episode.turns <= 1 and exc.refused)):
            raise
        return episode.episode(
            condition,
            index,
            run,
            start,
            score=no_answer_score(case, str(exc)),
            final_answer="",
            final_from="none",
            ended="error",
            error=str(exc),
        )
    final, final_from = _final(answer, episode.last_source)
    judged = await anyio.to_thread.run_sync(lambda: judge_answer(final, case, setup.runtime))
    return episode.episode(
        condition, index, run, start, score=judged, final_answer=final, final_from=final_from, ended=ended
    )
