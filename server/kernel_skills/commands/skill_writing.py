"""`kernel-skills skills generate|refine`: skills written by a teacher model (``evals.generate``).

generate "TASK" --from TRACE... --model M: the traces are condensed by structure (errors and their fixes,
lint fixed, benchmark deltas) and the teacher writes SKILL.md + skill_meta.json into OUT/<name>/, only
when both are valid. refine SKILL --from-eval REPORT --model M: a new SKILL.md from the cases it failed.
A reply that breaks the format is saved under OUT/.teacher-replies/ and the command exits 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(actions: argparse._SubParsersAction) -> None:
    generate = actions.add_parser("generate", help="distil recorded traces into a skill with a teacher model")
    generate.add_argument(
        "task", metavar="TASK", help="what the skill is for, e.g. 'write an RMSNorm kernel'"
    )
    generate.add_argument(
        "--from", dest="traces", nargs="+", required=True, metavar="TRACE", help="trace ids or .jsonl files"
    )
    generate.add_argument(
        "--traces-dir", type=Path, default=Path("traces"), help="where trace ids are looked up"
    )
    generate.add_argument(
        "--out", type=Path, default=Path("generated-skills"), help="folder for the new skill"
    )
    generate.add_argument("--force", action="store_true", help="replace a skill of the same name in --out")
    generate.add_argument(
        "--print-prompt",
        action="store_true",
        help="print the teacher's prompt (the condensed traces and the format) and ask no model",
    )
    generate.add_argument(
        "--reply",
        type=Path,
        default=None,
        metavar="FILE",
        help="the teacher's reply to that prompt, got elsewhere (a chat UI, another tool); with --model, "
        "problems in it are sent to that model to fix",
    )
    _teacher_arguments(generate)
    generate.set_defaults(func=_generate)

    refine = actions.add_parser("refine", help="improve a skill's SKILL.md from the cases an eval failed")
    refine.add_argument("skill_dir", metavar="SKILL", type=Path, help="skill folder to rewrite in place")
    refine.add_argument("--from-eval", type=Path, required=True, metavar="REPORT", help="eval report JSON")
    _teacher_arguments(refine)
    refine.set_defaults(func=_refine)


def _teacher_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="the teacher model the endpoint serves")
    parser.add_argument(
        "--base-url", default=None, help="OpenAI-compatible API root (default $OPENAI_BASE_URL)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the teacher's reply")
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="reply length limit (default: endpoint's)"
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="teacher replies at most: a reply with problems is sent back with them (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _print(result, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from kernel_skills.commands.output import emit_json

    if as_json:
        emit_json(result)
        return
    sys.stdout.write(
        f"wrote {result.path}: skill {result.name}, body ~{result.body_tokens} tokens, {result.cases} cases "
        f"({result.fact_cases} fact, {result.task_cases} task)\n"
    )
    for warning in result.warnings:
        sys.stdout.write(f"note: {warning}\n")


def _generate(args: argparse.Namespace) -> int:
    from kernel_skills.evals import condense, generate_prompt, generate_skill
    from kernel_skills.traces import load_trace

    traces = [load_trace(ref, args.traces_dir) for ref in args.traces]
    if args.print_prompt:
        sys.stdout.write(generate_prompt(args.task, condense(traces)) + "\n")
        return 0
    if args.model is None and args.reply is None:
        sys.stderr.write(
            "kernel-skills skills generate: error: give --model (or --reply FILE, or --print-prompt)\n"
        )
        return 2
    reply = None
    if args.reply is not None:
        try:
            reply = args.reply.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            sys.stderr.write(
                f"kernel-skills skills generate: error: cannot read --reply {args.reply}: {exc}\n"
            )
            return 2
    result = generate_skill(
        args.task,
        traces,
        args.out,
        model=args.model,
        base_url=args.base_url,
        timeout_s=args.timeout,
        max_tokens=args.max_tokens,
        force=args.force,
        attempts=args.attempts,
        reply=reply,
    )
    _print(result, args.json)
    return 0


def _refine(args: argparse.Namespace) -> int:
    from kernel_skills.evals import refine_skill

    if args.model is None:
        sys.stderr.write("kernel-skills skills refine: error: --model is required\n")
        return 2

    result = refine_skill(
        args.skill_dir,
        args.from_eval,
        model=args.model,
        base_url=args.base_url,
        timeout_s=args.timeout,
        max_tokens=args.max_tokens,
        attempts=args.attempts,
    )
    _print(result, args.json)
    return 0
