"""`kernel-skills eval SKILL_DIR --agent --model M`: the agentic eval (see ``kernel_skills.evals.agent``).

Three conditions on the same cases (task cases by default): bare, skill body in context, and the skill
served progressively with this server's tools through the real MCP client, for up to --max-turns model
requests. Each episode's final kernel is judged by the case's assertions; every tool-using episode
leaves a trace (RUNS_DIR/<date>-agent/traces, readable with `kernel-skills traces`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel_skills.evals import AgentEvalReport, Episode
    from kernel_skills.runtime import Runtime


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("agentic eval (--agent)")
    group.add_argument(
        "--agent", action="store_true", help="run the model as an agent with this server's MCP tools"
    )
    group.add_argument("--max-turns", type=int, default=6, help="model requests per tool episode (default 6)")
    group.add_argument(
        "--cases", choices=("task", "fact", "all"), default="task", help="which cases (default: task)"
    )
    group.add_argument(
        "--text-tool-calls",
        action="store_true",
        help="also run tool calls the model writes as JSON in its text (endpoints that parse none)",
    )
    group.add_argument(
        "--conditions",
        default="bare,skill_in_context,skill_and_tools",
        help="comma-separated subset of bare,skill_in_context,skill_and_tools (default: all three)",
    )


def handle(args: argparse.Namespace) -> int:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the progress

    from kernel_skills.app import ServerConfig
    from kernel_skills.commands.output import emit_json
    from kernel_skills.runtime import Runtime
    from kernel_skills.surface import mcp_toolbox_factory

    conditions = tuple(c.strip() for c in args.conditions.split(",") if c.strip())
    _refuse_other_options(args)
    stamp = datetime.now(UTC).strftime("%Y_%m_%d_%H_%M_%S")
    folder = Path(args.runs_dir) / f"{stamp}-agent"
    traces = folder / "traces"
    runtime = Runtime.create()  # one for the command: every episode's server shares its workers
    factory = mcp_toolbox_factory(ServerConfig(use_env=False, record_dir=traces), runtime)
    show = _episode_line_writer(args.model[0], quiet=args.quiet or args.json)
    with runtime:
        report = _run(args, factory, conditions, folder, traces, show, runtime)
    if args.json:
        emit_json(report)
    else:
        print_report(report)
    return 0


def _run(  # type: ignore[no-untyped-def]
    args: argparse.Namespace,
    factory,
    conditions: tuple[str, ...],
    folder: Path,
    traces: Path,
    show,
    runtime: Runtime,
) -> AgentEvalReport:
    import anyio

    from kernel_skills.evals import run_agent_eval

    return anyio.run(
        lambda: run_agent_eval(
            args.skill_dir,
            args.model[0],
            factory,
            base_url=args.base_url,
            tests=args.tests,
            cases=args.cases,
            conditions=conditions,  # type: ignore[arg-type]
            runs=args.runs,
            max_turns=args.max_turns,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
            retries=args.retries,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            seed=args.seed,
            runs_dir=folder,
            traces_dir=traces,
            text_tool_calls=args.text_tool_calls,
            runtime=runtime,
            on_episode=show,
        )
    )


def _refuse_other_options(args: argparse.Namespace) -> None:
    """RefusedInput for the options of the plain eval that --agent does not take."""
    from kernel_skills.errors import RefusedInput

    if len(args.model) != 1:
        raise RefusedInput("--agent takes one --model (run it once per model)")
    if args.resume is not None or args.html is not None:
        raise RefusedInput(
            "--resume and --html are not available with --agent (its report is agent_report.json)"
        )


def _episode_line_writer(model: str, *, quiet: bool) -> Callable[[Episode], None]:
    """The progress callback: one line on stderr per finished episode (nothing when ``quiet``)."""

    def show(e: Episode) -> None:
        if not quiet:
            error = f", {e.error[:80]}" if e.error else ""
            status = "no answer" if e.ended == "error" else e.score.status
            sys.stderr.write(
                f"[{model}] case {e.case} {e.condition} run {e.run}: {status} "
                f"({e.turns} turns, {len(e.tool_calls)} tool calls, {e.wall_s:.1f} s{error})\n"
            )

    return show


def print_report(report: AgentEvalReport) -> None:
    out = sys.stdout
    out.write(
        f"agentic eval: skill {report.skill}  model {report.model}  {len(report.cases)} cases x "
        f"{report.runs} run(s)  max turns {report.max_turns}  ({report.base_url})\n"
    )
    out.write(f"{'condition':17} {'pass':>6} {'turns':>6} {'tokens':>8} {'wall s':>7}  tool calls\n")
    for name, t in report.conditions.items():
        calls = ", ".join(f"{k} {v}" for k, v in t.tool_calls.items()) or "-"
        problems = []
        for label, n in (
            ("no answer", t.errors),
            ("tool errors", t.tool_errors),
            ("malformed", t.malformed_arguments),
            ("unknown", t.unknown_tools),
            ("loops", t.loops),
            ("turn limit", t.turn_limit),
        ):
            if n:
                problems.append(f"{label} {n}")
        extra = f"  [{'; '.join(problems)}]" if problems else ""
        nj = f" ({t.not_judged} not judged)" if t.not_judged else ""
        out.write(
            f"{name:17} {100 * t.pass_rate:5.1f}% {t.turns_mean:6.1f} {t.usage.total_tokens:8d} "
            f"{t.wall_s_total:7.1f}  {calls}{extra}{nj}\n"
        )
    out.write(
        f"lift over bare: skill in context {100 * report.lift_skill_in_context:+.1f} points, "
        f"skill + tools {100 * report.lift_skill_and_tools:+.1f} points\n"
    )
    for move in report.moved:
        cells = "  ".join(f"{c} {move.passed[c]}/{move.judged[c]}" for c in move.passed)
        out.write(f"  moved: {move.assertion}: {cells}\n")
    detail = f" — {report.tool_calling_detail}" if report.tool_calling_detail else ""
    out.write(f"tool calling: {report.tool_calling}{detail}\n")
    out.write(f"wall time {report.wall_time_s:.1f} s; episodes and traces in {report.runs_dir}\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
