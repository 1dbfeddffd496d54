"""Agentic eval: the model works each task case as an agent whose tools are this server's MCP tools.

Three conditions on the same cases: ``bare`` (no skill, no tools), ``skill_in_context`` (the SKILL.md
body in the system prompt, no tools) and ``skill_and_tools`` (no body up front: the skill is served
progressively through list_skills / get_skill / read_skill_file, with compile_kernel and
benchmark_kernel, for up to ``max_turns`` model requests). The tools are reached through a
``Toolbox`` (the MCP client side lives in ``kernel_skills.surface.mcp_toolbox``: this module imports
no MCP code). OpenAI-style tool calling: ``tools=[...]`` in /chat/completions, ``tool_calls`` in the
reply, ``role: tool`` messages back.

Small models call tools badly. Arguments that are not a JSON object are answered here with a clear
"refused" (they cannot be sent as a tool call at all); everything else, unknown tool names and
arguments of the wrong shape included, goes to the server and its normal error goes back to the model.
A third identical call in a row is not run (a loop) and the model is told so. At the turn limit the
model is asked once, without tools, for its final kernel. An endpoint error ends that episode with the
error ("no answer": counted apart, never in a pass rate); an unusable endpoint (refused, unreachable, a
4xx on an episode's first request, any error before the first answer) stops the eval with its error,
and an eval without a single answer is an error too: no report and no runs folder are left. The final
kernel is the last answer's code, or (when that has none) the last source the model compiled or
benchmarked.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.to_thread
from pydantic import BaseModel, Field, ValidationError

from kernel_skills.errors import EndpointError, KernelSkillsError, NoAnswers, RefusedInput, ToolsUnsupported
from kernel_skills.evals.agent_models import (
    AGENT_CONDITIONS,
    AGENT_TOOLS,
    AgentCondition,
    AgentEvalReport,
    AssertionMove,
    ConditionTotals,
    Episode,
    ToolCallRecord,
)
from kernel_skills.evals.assertions import AnswerScore, judge_answer
from kernel_skills.evals.client import ChatClient, Usage
from kernel_skills.evals.code_checks import extract_code
from kernel_skills.evals.lift import (
    BASE_SYSTEM_PROMPT,
    _tallies,
    no_answer_score,
    read_skill,
    system_prompt,
)
from kernel_skills.evals.runs import make_dirs, remove_made
from kernel_skills.evals.skill_meta import SkillMeta, TestCase, load_skill_meta

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


class ToolSpec(BaseModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class ToolOutcome(BaseModel):
    text: str
    is_error: bool = False


class Toolbox(Protocol):
    instructions: str

    async def list_tools(self) -> list[ToolSpec]: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome: ...

    @property
    def trace(self) -> str | None: ...


ToolboxFactory = Callable[[str], AbstractAsyncContextManager[Toolbox]]  # client name -> toolbox


# --- the endpoint, with tools ------------------------------------------------------------------


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str  # raw, as the model wrote it


class AgentReply(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None


def _parse_reply(body: bytes, url: str) -> AgentReply:
    try:
        data = json.loads(body)
        message = data["choices"][0]["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise EndpointError(
            f"{url} answered something that is not a chat completion (need choices[0].message): "
            f"{body[:300]!r}"
        ) from exc
    calls = []
    for n, raw in enumerate(message.get("tool_calls") or []):
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict):
            continue
        arguments = function.get("arguments", "")
        calls.append(
            ToolCall(
                id=str(raw.get("id") or f"call_{n}"),
                name=str(function.get("name") or ""),
                arguments=arguments if isinstance(arguments, str) else json.dumps(arguments),
            )
        )
    try:
        usage = Usage.model_validate(data["usage"]) if isinstance(data.get("usage"), dict) else None
    except ValidationError:
        usage = None
    content = message.get("content")
    return AgentReply(
        text=content if isinstance(content, str) else "",
        tool_calls=calls,
        usage=usage,
        finish_reason=data["choices"][0].get("finish_reason"),
    )


class ToolChatClient(ChatClient):
    """``ChatClient`` plus OpenAI-style tool calling (``tools`` in the request, ``tool_calls`` back)."""

    def chat_tools(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> AgentReply:
        body: dict[str, Any] = {"model": model, "messages": messages}
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        optional = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        body.update({k: v for k, v in optional.items() if v is not None})
        for attempt in range(self._retries + 1):
            response = self._post(body)
            if response.status_code not in (429, 500, 502, 503, 504) or attempt == self._retries:
                break
            time.sleep(self._wait_s(response, attempt))
        if tools and response.status_code in (400, 404, 422, 500, 501) and "tool" in response.text.lower():
            raise ToolsUnsupported(
                f"{self._url} refused a request with tools (HTTP {response.status_code}): "
                f"{response.text[:300]} — this endpoint or model has no tool-calling support "
                "(llama.cpp's server needs --jinja)",
                status_code=response.status_code,
            )
        if response.status_code >= 400:
            self._parse(response)  # raises the usual EndpointError
        return _parse_reply(response.content, self._url)


# --- one episode -------------------------------------------------------------------------------


class _Sampling(BaseModel):
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


class _EpisodeRun:
    def __init__(
        self,
        client: ToolChatClient,
        model: str,
        case: TestCase,
        sampling: _Sampling,
        max_turns: int,
        text_tool_calls: bool = False,
        tally: EndpointTally | None = None,
    ) -> None:
        self.tally = tally if tally is not None else EndpointTally()
        self.text_tool_calls = text_tool_calls
        self.client = client
        self.model = model
        self.case = case
        self.sampling = sampling
        self.max_turns = max_turns
        self.usage = Usage()
        self.turns = 0
        self.calls: list[ToolCallRecord] = []
        self.plain_text_calls = 0
        self.last_source: str | None = None

    async def ask(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> AgentReply:
        self.turns += 1
        reply = await anyio.to_thread.run_sync(
            lambda: self.client.chat_tools(self.model, messages, tools, **self.sampling.model_dump())
        )
        self.tally.replies += 1
        if reply.usage is not None:
            self.usage = self.usage + reply.usage
        if tools and not reply.tool_calls and _TEXT_CALL.search(reply.text):
            self.plain_text_calls += 1
            if self.text_tool_calls:
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
        while self.turns < self.max_turns:
            reply = await self.ask(messages, tools)
            if not reply.tool_calls:
                return reply.text, "answered"
            messages.append(
                {
                    "role": "assistant",
                    "content": reply.text or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in reply.tool_calls
                    ],
                }
            )
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


async def run_episode(
    client: ToolChatClient,
    model: str,
    case: TestCase,
    condition: AgentCondition,
    *,
    index: int,
    run: int,
    skill_body_prompt: str,
    toolbox_factory: ToolboxFactory | None,
    sampling: _Sampling,
    max_turns: int,
    text_tool_calls: bool = False,
    tally: EndpointTally | None = None,
) -> Episode:
    start = time.monotonic()
    episode = _EpisodeRun(client, model, case, sampling, max_turns, text_tool_calls, tally)
    trace: str | None = None
    try:
        if condition == "bare":
            answer, ended = await episode.without_tools(system_prompt(None))
        elif condition == "skill_in_context":
            answer, ended = await episode.without_tools(skill_body_prompt)
        else:
            if toolbox_factory is None:
                raise RefusedInput("the skill_and_tools condition needs a toolbox")
            failure: EndpointError | None = None
            answer, ended = "", "error"
            # The endpoint's error is raised outside the client's task group (which would wrap it).
            async with toolbox_factory(f"eval-case{index}-run{run}/{model}") as toolbox:
                system = f"{BASE_SYSTEM_PROMPT}\n\n" + TOOLS_PROMPT.format(instructions=toolbox.instructions)
                try:
                    answer, ended = await episode.with_tools(system, toolbox)
                except EndpointError as exc:
                    failure = exc
                trace = toolbox.trace
            if failure is not None:
                raise failure
    except ToolsUnsupported:
        raise
    except EndpointError as exc:
        never_answered = episode.tally.replies == 0
        if not exc.timed_out and (never_answered or (episode.turns <= 1 and exc.refused)):
            raise
        return _failed_episode(case, condition, index, run, episode, str(exc), start, trace)
    final, final_from = _final(answer, episode.last_source)
    judged = await anyio.to_thread.run_sync(lambda: judge_answer(final, case))
    return Episode(
        case=index,
        condition=condition,
        run=run,
        score=judged,
        final_answer=final,
        final_from=final_from,  # type: ignore[arg-type]
        turns=episode.turns,
        tool_calls=episode.calls,
        plain_text_tool_calls=episode.plain_text_calls,
        ended=ended,  # type: ignore[arg-type]
        usage=episode.usage,
        wall_s=time.monotonic() - start,
        trace=trace,
    )


def _failed_episode(
    case: TestCase,
    condition: AgentCondition,
    index: int,
    run: int,
    episode: _EpisodeRun,
    error: str,
    start: float,
    trace: str | None,
) -> Episode:
    return Episode(
        case=index,
        condition=condition,
        run=run,
        score=no_answer_score(case, error),
        final_answer="",
        final_from="none",
        turns=episode.turns,
        tool_calls=episode.calls,
        plain_text_tool_calls=episode.plain_text_calls,
        ended="error",
        error=error,
        usage=episode.usage,
        wall_s=time.monotonic() - start,
        trace=trace,
    )


# --- the eval ----------------------------------------------------------------------------------


def _totals(episodes: list[Episode]) -> ConditionTotals:
    answered = [e for e in episodes if e.ended != "error"]
    judged = [e for e in answered if e.score.status != "not_judged"]
    calls = [c for e in episodes for c in e.tool_calls]
    by_tool: dict[str, int] = {}
    for c in calls:
        by_tool[c.name] = by_tool.get(c.name, 0) + 1
    usage = Usage()
    for e in episodes:
        usage = usage + e.usage
    wall = sum(e.wall_s for e in episodes)
    return ConditionTotals(
        episodes=len(episodes),
        pass_rate=sum(e.score.passed for e in judged) / len(judged) if judged else 0.0,
        judged=len(judged),
        not_judged=len(answered) - len(judged),
        errors=len(episodes) - len(answered),
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
        assertions=_tallies([_as_run(e) for e in answered]),
    )


class _ScoreHolder(BaseModel):
    score: AnswerScore


def _as_run(e: Episode) -> _ScoreHolder:
    return _ScoreHolder(score=e.score)


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


def _first_domain_error(group: BaseExceptionGroup) -> BaseException:
    """The error that stopped the eval (an unusable endpoint), unwrapped from the task group."""
    for exc in group.exceptions:
        found = _first_domain_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, KernelSkillsError):
            return found
    return group


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


def _select(meta: SkillMeta, cases: str) -> list[tuple[int, TestCase]]:
    chosen = [(i, c) for i, c in enumerate(meta.tests) if cases == "all" or c.kind == cases]
    if not chosen:
        raise RefusedInput(f"the skill has no {cases} cases (task cases have executable assertions)")
    return chosen


async def _run_all(
    run_one: Callable[..., Awaitable[Episode]],
    jobs: list[tuple[int, TestCase, AgentCondition, int]],
    concurrency: int,
    runs_dir: Path | None,
    on_episode: Callable[[Episode], None] | None,
) -> tuple[list[Episode], str | None]:
    """Every job's episode, ``concurrency`` at a time; the reason tools were refused, if they were."""
    episodes: list[Episode] = []
    unsupported: str | None = None
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(index: int, case: TestCase, condition: AgentCondition, run: int) -> None:
        nonlocal unsupported
        if condition == "skill_and_tools" and unsupported is not None:
            return
        async with limiter:
            try:
                episode = await run_one(case, condition, index=index, run=run)
            except ToolsUnsupported as exc:
                unsupported = str(exc)
                return
        episodes.append(episode)
        if runs_dir is not None:
            name = f"case{index}-{condition}-run{run}.json"
            (Path(runs_dir) / "episodes" / name).write_text(episode.model_dump_json(indent=2), "utf-8")
        if on_episode is not None:
            on_episode(episode)

    try:
        async with anyio.create_task_group() as tg:
            for job in jobs:
                tg.start_soon(one, *job)
    except BaseExceptionGroup as group:
        raise _first_domain_error(group) from None
    return episodes, unsupported


def _no_answer_message(url: str, model: str, episodes: list[Episode], unsupported: str | None) -> str:
    first = unsupported or next((e.error for e in episodes if e.error), None) or "none recorded"
    return (
        f"{url} answered none of the requests for model {model!r}, so there is nothing to measure and "
        f"no report was written. First error: {first}"
    )


async def run_agent_eval(
    skill_dir: Path,
    model: str,
    toolbox_factory: ToolboxFactory,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    tests: Path | None = None,
    cases: str = "task",
    conditions: tuple[AgentCondition, ...] = AGENT_CONDITIONS,
    runs: int = 1,
    max_turns: int = DEFAULT_MAX_TURNS,
    concurrency: int = 2,
    timeout_s: float = 300.0,
    retries: int = 2,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    seed: int | None = None,
    runs_dir: Path | None = None,
    traces_dir: Path | None = None,
    text_tool_calls: bool = False,
    on_episode: Callable[[Episode], None] | None = None,
) -> AgentEvalReport:
    """Every chosen case x condition x run, judged by the case's assertions; see the module docstring."""
    if not 1 <= max_turns <= 50:
        raise RefusedInput(f"--max-turns must be between 1 and 50, got {max_turns}")
    if not 1 <= runs <= 20:
        raise RefusedInput(f"--runs must be between 1 and 20, got {runs}")
    if not 1 <= concurrency <= 16:
        raise RefusedInput(f"concurrency must be between 1 and 16, got {concurrency}")
    if cases not in ("task", "fact", "all"):
        raise RefusedInput(f"--cases must be task, fact or all, got {cases!r}")
    if not conditions or any(c not in AGENT_CONDITIONS for c in conditions):
        raise RefusedInput(f"conditions must be among {', '.join(AGENT_CONDITIONS)}")
    skill = read_skill(Path(skill_dir))
    meta = load_skill_meta(tests if tests is not None else Path(skill_dir))
    chosen = _select(meta, cases)
    sampling = _Sampling(temperature=temperature, max_tokens=max_tokens, seed=seed)
    start = time.monotonic()
    made = make_dirs(Path(runs_dir)) if runs_dir is not None else []
    if runs_dir is not None:
        (Path(runs_dir) / "episodes").mkdir(exist_ok=True)
    tally = EndpointTally()
    try:
        with ToolChatClient(base_url, api_key=api_key, timeout_s=timeout_s, retries=retries) as client:
            run_one = functools.partial(
                run_episode,
                client,
                model,
                skill_body_prompt=system_prompt(skill),
                toolbox_factory=toolbox_factory,
                sampling=sampling,
                max_turns=max_turns,
                text_tool_calls=text_tool_calls,
                tally=tally,
            )
            jobs = [(i, case, c, r) for i, case in chosen for c in conditions for r in range(runs)]
            episodes, unsupported = await _run_all(run_one, jobs, concurrency, runs_dir, on_episode)
            resolved_url = client.base_url
        if tally.replies == 0:
            raise NoAnswers(_no_answer_message(resolved_url, model, episodes, unsupported))
    except BaseException:
        if tally.replies == 0:
            remove_made(made)  # nothing was measured: leave nothing behind
        raise

    episodes.sort(key=lambda e: (e.case, AGENT_CONDITIONS.index(e.condition), e.run))
    totals = {c: _totals([e for e in episodes if e.condition == c]) for c in conditions}
    bare = totals["bare"].pass_rate if "bare" in totals else 0.0
    mode, detail = _tool_calling(episodes, unsupported)
    report = AgentEvalReport(
        text_tool_calls=text_tool_calls,
        skill=skill.name,
        skill_dir=str(skill_dir),
        model=model,
        base_url=resolved_url,
        runs=runs,
        max_turns=max_turns,
        cases=[c.input for _, c in chosen],
        conditions=totals,
        lift_skill_in_context=totals["skill_in_context"].pass_rate - bare
        if "skill_in_context" in totals
        else 0,
        lift_skill_and_tools=totals["skill_and_tools"].pass_rate - bare if "skill_and_tools" in totals else 0,
        moved=_moves(totals),
        tool_calling=mode,  # type: ignore[arg-type]
        tool_calling_detail=detail,
        episodes=episodes,
        runs_dir=str(runs_dir) if runs_dir is not None else None,
        traces_dir=str(traces_dir) if traces_dir is not None else None,
        temperature=temperature,
        max_tokens=max_tokens,
        wall_time_s=time.monotonic() - start,
        notes=[
            "bare: no skill, no tools; skill_in_context: the SKILL.md body in the system prompt, no tools; "
            "skill_and_tools: the skill served through list_skills/get_skill/read_skill_file, with "
            "compile_kernel and benchmark_kernel, through the real MCP client and server",
            f"a turn is one model request; skill_and_tools episodes get at most {max_turns} turns, then one "
            "request without tools for the final kernel",
            "an episode passes when every assertion on its final kernel passed (not-judged never counts as "
            "passed)",
        ],
    )
    if unsupported is not None:
        report.notes.append(f"skill_and_tools was not run: {unsupported}")
    if text_tool_calls:
        report.notes.append(
            "--text-tool-calls: tool calls the model wrote as JSON in its text were run as calls "
            f"({sum(e.plain_text_tool_calls for e in episodes)} replies)"
        )
    if runs_dir is not None:
        (Path(runs_dir) / "agent_report.json").write_text(report.model_dump_json(indent=2), "utf-8")
    return report
