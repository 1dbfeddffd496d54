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

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kernel_skills.errors import NoAnswers, RefusedInput, ToolsUnsupported
from kernel_skills.evals.agent.client import ToolChatClient
from kernel_skills.evals.agent.episode import (
    DEFAULT_MAX_TURNS,
    EndpointTally,
    EpisodeSetup,
    Sampling,
    run_episode,
)
from kernel_skills.evals.agent.models import AGENT_CONDITIONS, AgentCondition, AgentEvalReport, Episode
from kernel_skills.evals.agent.report import build_report
from kernel_skills.evals.agent.toolbox import ToolboxFactory
from kernel_skills.evals.fanout import fan_out
from kernel_skills.evals.folders import make_dirs, remove_made
from kernel_skills.evals.skill_meta import SkillMeta, TestCase, load_skill_meta
from kernel_skills.evals.skill_text import read_skill, system_prompt
from kernel_skills.runtime import Runtime

Job = tuple[int, AgentCondition, int]  # case, condition, run


class AgentOptions(BaseModel):
    """An agentic eval's options (``run_agent_eval``'s keywords), in one place."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    base_url: str | None = None
    api_key: str | None = None
    tests: Path | None = None
    cases: str = "task"
    conditions: tuple[str, ...] = AGENT_CONDITIONS  # checked by _check_options (a RefusedInput)
    runs: int = 1
    max_turns: int = DEFAULT_MAX_TURNS
    concurrency: int = 2
    timeout_s: float = 300.0
    retries: int = 2
    temperature: float | None = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    runs_dir: Path | None = None
    traces_dir: Path | None = None
    text_tool_calls: bool = False
    runtime: Runtime | None = Field(
        None,
        description="compiles and benchmarks the code assertions; None: one for this eval, closed after it",
    )


def _check_options(options: AgentOptions) -> None:
    if not 1 <= options.max_turns <= 50:
        raise RefusedInput(f"--max-turns must be between 1 and 50, got {options.max_turns}")
    if not 1 <= options.runs <= 20:
        raise RefusedInput(f"--runs must be between 1 and 20, got {options.runs}")
    if not 1 <= options.concurrency <= 16:
        raise RefusedInput(f"concurrency must be between 1 and 16, got {options.concurrency}")
    if options.cases not in ("task", "fact", "all"):
        raise RefusedInput(f"--cases must be task, fact or all, got {options.cases!r}")
    if not options.conditions or any(c not in AGENT_CONDITIONS for c in options.conditions):
        raise RefusedInput(f"conditions must be among {', '.join(AGENT_CONDITIONS)}")


def _select(meta: SkillMeta, cases: str) -> list[tuple[int, TestCase]]:
    chosen = [(i, c) for i, c in enumerate(meta.tests) if cases == "all" or c.kind == cases]
    if not chosen:
        raise RefusedInput(f"the skill has no {cases} cases (task cases have executable assertions)")
    return chosen


async def _run_all(
    setup: EpisodeSetup,
    chosen: list[tuple[int, TestCase]],
    options: AgentOptions,
    on_episode: Callable[[Episode], None] | None,
) -> tuple[list[Episode], str | None]:
    """Every job's episode, ``concurrency`` at a time; the reason tools were refused, if they were."""
    cases = dict(chosen)
    jobs: list[Job] = [(i, c, r) for i, _ in chosen for c in options.conditions for r in range(options.runs)]
    unsupported: str | None = None

    async def work(job: Job) -> Episode | None:
        nonlocal unsupported
        index, condition, run = job
        if condition == "skill_and_tools" and unsupported is not None:
            return None
        try:
            episode = await run_episode(setup, cases[index], condition, index=index, run=run)
        except ToolsUnsupported as exc:
            unsupported = str(exc)
            return None
        if options.runs_dir is not None:
            name = f"case{index}-{condition}-run{run}.json"
            (options.runs_dir / "episodes" / name).write_text(episode.model_dump_json(indent=2), "utf-8")
        if on_episode is not None:
            on_episode(episode)
        return episode

    episodes = await fan_out(jobs, work, concurrency=options.concurrency)
    return list(episodes.values()), unsupported


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
    on_episode: Callable[[Episode], None] | None = None,
    **options: Any,
) -> AgentEvalReport:
    """Every chosen case x condition x run, judged by the case's assertions; see the module docstring.
    ``options``: the fields of ``AgentOptions``."""
    opts = AgentOptions(**options)
    _check_options(opts)
    with Runtime.given_or_new(opts.runtime) as runtime:  # its compile worker serves every judgement
        return await _evaluate(
            Path(skill_dir), model, toolbox_factory, opts.model_copy(update={"runtime": runtime}), on_episode
        )


async def _evaluate(
    skill_dir: Path,
    model: str,
    toolbox_factory: ToolboxFactory,
    opts: AgentOptions,
    on_episode: Callable[[Episode], None] | None,
) -> AgentEvalReport:
    skill = read_skill(Path(skill_dir))
    chosen = _select(load_skill_meta(opts.tests if opts.tests is not None else Path(skill_dir)), opts.cases)
    start = time.monotonic()
    made = make_dirs(opts.runs_dir) if opts.runs_dir is not None else []
    if opts.runs_dir is not None:
        (opts.runs_dir / "episodes").mkdir(exist_ok=True)
    tally = EndpointTally()
    try:
        with ToolChatClient(
            opts.base_url, api_key=opts.api_key, timeout_s=opts.timeout_s, retries=opts.retries
        ) as client:
            setup = EpisodeSetup(
                client=client,
                model=model,
                skill_body_prompt=system_prompt(skill),
                toolbox_factory=toolbox_factory,
                sampling=Sampling(temperature=opts.temperature, max_tokens=opts.max_tokens, seed=opts.seed),
                max_turns=opts.max_turns,
                text_tool_calls=opts.text_tool_calls,
                tally=tally,
                runtime=opts.runtime,
            )
            episodes, unsupported = await _run_all(setup, chosen, opts, on_episode)
        if tally.replies == 0:
            raise NoAnswers(_no_answer_message(client.base_url, model, episodes, unsupported))
    except BaseException:
        if tally.replies == 0:
            remove_made(made)  # nothing was measured: leave nothing behind
        raise
    report = build_report(
        episodes,
        unsupported,
        conditions=opts.conditions,  # type: ignore[arg-type]
        wall_time_s=time.monotonic() - start,
        skill=skill.name,
        skill_dir=str(skill_dir),
        model=model,
        base_url=client.base_url,
        cases=[c.input for _, c in chosen],
        runs_dir=str(opts.runs_dir) if opts.runs_dir is not None else None,
        traces_dir=str(opts.traces_dir) if opts.traces_dir is not None else None,
        **opts.model_dump(include={"runs", "max_turns", "text_tool_calls", "temperature", "max_tokens"}),
    )
    if opts.runs_dir is not None:
        (opts.runs_dir / "agent_report.json").write_text(report.model_dump_json(indent=2), "utf-8")
    return report
