"""`kernel-skills eval SKILL_DIR --model M [--base-url URL] [--runs N] [--json]`: skill lift.

Asks an OpenAI-compatible chat endpoint each question of SKILL_DIR/skill_meta.json N times without
and N times with the skill (the SKILL.md body goes in the system prompt; reference files are
not inlined, so the score measures what the body alone teaches) and reports per-case and overall
pass rates, the fraction of expected strings hit, the lift, and token usage when the endpoint
reports it. The API key comes from $OPENAI_API_KEY (optional for local servers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel_skills.evals import EvalReport


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="measure a skill's lift on its skill_meta.json test cases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("skill_dir", metavar="SKILL_DIR", type=Path, help="skill folder with skill_meta.json")
    parser.add_argument("--model", required=True, help="model name the endpoint serves")
    parser.add_argument(
        "--base-url",
        default=None,
        help="OpenAI-compatible API root (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)",
    )
    parser.add_argument("--runs", type=int, default=1, help="answers per case and condition (default 1)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default 120)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument(
        "--retries", type=int, default=2, help="retries of a request answered 429/5xx (default 2)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.evals import run_eval

    report = run_eval(
        args.skill_dir,
        args.model,
        base_url=args.base_url,
        runs=args.runs,
        timeout_s=args.timeout,
        concurrency=args.concurrency,
        retries=args.retries,
    )
    if args.json:
        emit_json(report)
    else:
        _print_human(report)
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _print_human(report: EvalReport) -> None:
    out = sys.stdout
    out.write(f"skill {report.skill}  model {report.model}  runs {report.runs}  ({report.base_url})\n")
    out.write(f"{'#':>3}  {'without':>8}  {'with':>8}  {'lift':>7}  question\n")
    for case in report.cases:
        question = case.input.replace("\n", " ")
        question = question if len(question) <= 60 else question[:57] + "..."
        out.write(
            f"{case.index:>3}  {_pct(case.without_skill.pass_rate):>8}  {_pct(case.with_skill.pass_rate):>8}"
            f"  {100 * case.lift:+6.1f}  {question}\n"
        )
    w, s = report.without_skill, report.with_skill
    out.write(
        f"overall pass rate: without {_pct(w.pass_rate)}  with {_pct(s.pass_rate)}  "
        f"lift {100 * report.lift:+.1f} points\n"
    )
    out.write(
        f"expected strings hit: without {_pct(w.mean_fraction)}  with {_pct(s.mean_fraction)}  "
        f"lift {100 * report.fraction_lift:+.1f} points\n"
    )
    if w.usage is not None or s.usage is not None:
        out.write(
            f"tokens: without {w.usage.total_tokens if w.usage else 'n/a'}  "
            f"with {s.usage.total_tokens if s.usage else 'n/a'}\n"
        )
    for note in report.notes:
        out.write(f"note: {note}\n")
