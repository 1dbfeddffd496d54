"""`kernel-skills eval SKILL_DIR --model M [--model M2] [--base-url URL] [--runs N] [--json]`: skill lift.

Asks an OpenAI-compatible chat endpoint each case of SKILL_DIR/skill_meta.json (or --tests FILE,
upskill's format: a list of cases or {"cases": [...]}) N times without and N times with the skill
(the SKILL.md body goes in the system prompt; reference files are not inlined, so the score
measures what the body alone teaches), judges every answer (text assertions, and executable ones
on the answer's code: compiles, kernel, abi, sass_has, no_spills, lint_clean, correct,
speedup_at_least) and reports per-case and overall pass rates, fact and task cases apart, the lift,
its spread across runs, tokens, latency and wall time. Every model gets its own baseline.

Progress goes to stderr; each answer is written to RUNS_DIR/<date>/run_N/ as it arrives, with a
batch summary, a CSV and report.html at the end; --resume RUNS_DIR/<date> continues a killed eval.
Sampling defaults to temperature 0 (repeatable measurements; --temperature server sends none).
The API key comes from $OPENAI_API_KEY (optional for local servers).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kernel_skills.commands import agent_eval
from kernel_skills.commands.bench import add_problems_dir_argument

if TYPE_CHECKING:
    from kernel_skills.evals import BatchReport, EvalProgress, EvalReport, Totals
    from kernel_skills.runtime import Runtime


def _temperature(text: str) -> float | None:
    if text == "server":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'server'") from None
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"temperature {value} is outside 0..2")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="measure a skill's lift on its skill_meta.json test cases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("skill_dir", metavar="SKILL_DIR", type=Path, help="skill folder with SKILL.md")
    parser.add_argument(
        "--model",
        action="append",
        help="model name the endpoint serves (repeat for several; required unless --rejudge)",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="OpenAI-compatible API root (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)",
    )
    parser.add_argument(
        "--tests", type=Path, default=None, help="cases file (default SKILL_DIR/skill_meta.json)"
    )
    parser.add_argument("--runs", type=int, default=1, help="answers per case and condition (default 1)")
    parser.add_argument(
        "--temperature",
        type=_temperature,
        default=0.0,
        help="sampling temperature (default 0: repeatable; 'server' sends none and takes the endpoint's)",
    )
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="answer length limit (default: endpoint's)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="sampling seed, where the endpoint takes one; run r of each case uses seed + r, so --runs N "
        "with a temperature above 0 samples N different answers",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per answer (default 300)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument(
        "--retries", type=int, default=2, help="retries of a request answered 429/5xx (default 2)"
    )
    parser.add_argument(
        "--runs-dir", type=Path, default=Path("runs"), help="where each eval's folder goes (default ./runs)"
    )
    parser.add_argument("--resume", type=Path, default=None, help="continue the eval stored in this folder")
    parser.add_argument(
        "--rejudge",
        type=Path,
        default=None,
        help="judge the answers stored in this runs folder again with today's assertions (no model asked)",
    )
    parser.add_argument("--html", type=Path, default=None, help="write the HTML report here too")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    add_problems_dir_argument(parser)
    agent_eval.add_arguments(parser)
    parser.set_defaults(func=_handle)


def _progress_printer(quiet: bool):  # type: ignore[no-untyped-def]
    def show(p: EvalProgress) -> None:
        if quiet:
            return
        done = "  ".join(f"{c.replace('_skill', '')} {p.done[c]}/{p.total[c]}" for c in p.total)
        speed = f"{p.tokens_per_s:5.1f} tok/s" if p.tokens_per_s else "  -- tok/s"
        minutes, seconds = divmod(int(p.elapsed_s), 60)
        errors = f"  errors {p.errors}" if p.errors else ""
        sys.stderr.write(f"[{p.model}] {done}  {minutes}m{seconds:02d}s  {speed}{errors}  {p.last}\n")
        sys.stderr.flush()

    return show


def _use_problems_dirs(dirs: list[Path]) -> None:
    """``--problems-dir``: this command's problems, for every part that loads them (the case checks, the
    judge, the agentic eval's servers), through the registry's own channel, ``KERNEL_SKILLS_PROBLEMS_DIR``."""
    if not dirs:
        return
    from kernel_skills.bench import PROBLEMS_DIR_ENV
    from kernel_skills.errors import RefusedInput

    for directory in dirs:
        if not directory.is_dir():
            raise RefusedInput(f"--problems-dir {directory}: not a directory")
    earlier = os.environ.get(PROBLEMS_DIR_ENV, "")
    os.environ[PROBLEMS_DIR_ENV] = os.pathsep.join(
        [*(str(d.resolve()) for d in dirs), *filter(None, [earlier])]
    )


def _handle(args: argparse.Namespace) -> int:
    if args.rejudge is None and not args.model:
        sys.stderr.write("kernel-skills eval: error: --model is required (unless --rejudge)\n")
        return 2
    _use_problems_dirs(args.problems_dir)
    if args.agent:
        return agent_eval.handle(args)
    from kernel_skills.runtime import Runtime

    with Runtime.create() as runtime:
        return _emit(_batch(args, runtime), args)


def _batch(args: argparse.Namespace, runtime: Runtime) -> BatchReport:
    from kernel_skills.evals import rejudge_runs, run_batch

    if args.rejudge is not None:
        return rejudge_runs(args.skill_dir, args.rejudge, tests=args.tests, runtime=runtime)
    return run_batch(
        args.skill_dir,
        args.model,
        base_url=args.base_url,
        runs=args.runs,
        tests=args.tests,
        timeout_s=args.timeout,
        concurrency=args.concurrency,
        retries=args.retries,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        seed=args.seed,
        runs_dir=args.runs_dir if args.resume is None else None,
        resume=args.resume,
        runtime=runtime,
        on_progress=_progress_printer(args.quiet or args.json),
    )


def _emit(batch: BatchReport, args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.evals import render_html

    html = render_html(batch)
    targets = [Path(batch.runs_dir) / "report.html"] if batch.runs_dir else []
    targets += [args.html] if args.html else []
    for target in targets:
        target.write_text(html, encoding="utf-8")
    if args.json:
        emit_json(batch.models[0] if len(batch.models) == 1 else batch)
    else:
        for report in batch.models:
            _print_human(report)
        for target in targets:
            sys.stdout.write(f"report: {target}\n")
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _spread(x: float | None) -> str:
    return f" ±{100 * x:.1f}" if x is not None else ""


def _print_human(report: EvalReport) -> None:
    out = sys.stdout
    _print_cases(out, report)
    _print_pass_rates(out, report)
    _print_assertions(out, report.without_skill, report.with_skill)
    _print_cost(out, report)
    for note in report.notes:
        out.write(f"note: {note}\n")


def _print_cases(out: TextIO, report: EvalReport) -> None:
    """The header and one row per case: its pass rates without and with the skill, and the lift."""
    out.write(f"skill {report.skill}  model {report.model}  runs {report.runs}  ({report.base_url})\n")
    out.write(f"{'#':>3}  {'kind':4}  {'without':>8}  {'with':>8}  {'lift':>7}  question\n")
    for case in report.cases:
        question = case.input.replace("\n", " ")
        question = question if len(question) <= 60 else question[:57] + "..."
        nj = case.without_skill.not_judged + case.with_skill.not_judged
        flag = f"  [{nj} not judged]" if nj else ""
        out.write(
            f"{case.index:>3}  {case.kind:4}  {_pct(case.without_skill.pass_rate):>8}  "
            f"{_pct(case.with_skill.pass_rate):>8}  {100 * case.lift:+6.1f}  {question}{flag}\n"
        )


def _print_pass_rates(out: TextIO, report: EvalReport) -> None:
    """Overall and per-kind pass rates, what went unjudged, the noise, and the share of assertions hit."""
    w, s = report.without_skill, report.with_skill
    out.write(
        f"overall pass rate: without {_pct(w.pass_rate)}{_spread(w.spread)}  with {_pct(s.pass_rate)}"
        f"{_spread(s.spread)}  lift {100 * report.lift:+.1f} points\n"
    )
    for kind, k in report.by_kind.items():
        out.write(
            f"  {kind} cases ({k.cases}): without {_pct(k.without_skill.pass_rate)}  with "
            f"{_pct(k.with_skill.pass_rate)}  lift {100 * k.lift:+.1f} points\n"
        )
    if w.not_judged or s.not_judged:
        out.write(
            f"not judged (not counted as passed): without {w.not_judged}/{w.answers}  "
            f"with {s.not_judged}/{s.answers} answers\n"
        )
    if report.within_noise is not None:
        verdict = "within the noise" if report.within_noise else "beyond the noise"
        out.write(f"lift {verdict}: spread of per-run lifts {100 * (report.lift_spread or 0):.1f} points\n")
    out.write(
        f"assertions hit: without {_pct(w.mean_fraction)}  with {_pct(s.mean_fraction)}  "
        f"lift {100 * report.fraction_lift:+.1f} points\n"
    )


def _print_assertions(out: TextIO, w: Totals, s: Totals) -> None:
    """Per assertion kind: passed without and with the skill (the plain text matchers left out)."""
    for name, tally in s.assertions.items():
        wt = w.assertions.get(name)
        if tally.not_judged and not (tally.passed or tally.failed):
            out.write(
                f"  {name}: not judged ({tally.reasons_not_judged[0] if tally.reasons_not_judged else ''})\n"
            )
        elif wt is not None and name not in ("contains", "words", "matches", "not_contains"):
            out.write(
                f"  {name}: without {wt.passed}/{wt.passed + wt.failed}  with {tally.passed}/"
                f"{tally.passed + tally.failed} passed\n"
            )


def _print_cost(out: TextIO, report: EvalReport) -> None:
    """Tokens, speed, latency, wall time, unanswered questions and the overall benefit."""
    w, s = report.without_skill, report.with_skill
    if w.usage is not None or s.usage is not None:
        savings = f"  savings {_pct(report.token_savings)}" if report.token_savings is not None else ""
        out.write(
            f"tokens: without {w.usage.total_tokens if w.usage else 'n/a'}  "
            f"with {s.usage.total_tokens if s.usage else 'n/a'}{savings}\n"
        )
    speed = f"  {s.completion_tokens_per_s:.1f} tokens/s per answer" if s.completion_tokens_per_s else ""
    if report.throughput_tokens_per_s:
        speed += f", {report.throughput_tokens_per_s:.1f} in total"
    latency = (
        f"  latency mean {s.latency_s_mean:.1f} s max {s.latency_s_max:.1f} s" if s.latency_s_mean else ""
    )
    errors = w.errors + s.errors
    out.write(
        f"wall time {report.wall_time_s:.1f} s{latency}{speed}"
        + (f"  no answer {errors} (not in the pass rates)" if errors else "")
        + f"  beneficial: {'yes' if report.is_beneficial else 'no'}\n"
    )
