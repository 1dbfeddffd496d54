"""`kernel-skills traces list|show|export`: read the traces `serve --record DIR` (or `eval --agent`) wrote.

list: one line per trace (client, start, skills read, compiles, benchmarks); show: the Markdown rendering
(or the events with --json); export: one file, Markdown or JSON with every source inlined.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DIR = Path("traces")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("traces", help="list, show or export recorded agent traces")
    actions = parser.add_subparsers(dest="traces_action", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="record folder (default ./traces)")
        p.add_argument("--json", action="store_true", help="print JSON on stdout")

    listing = actions.add_parser("list", help="the traces in a record folder")
    common(listing)
    listing.set_defaults(func=_list)
    show = actions.add_parser("show", help="one trace, rendered as Markdown")
    show.add_argument("trace", metavar="TRACE", help="trace id (from `traces list`) or .jsonl path")
    show.add_argument("--no-sources", action="store_true", help="leave the kernel sources out")
    common(show)
    show.set_defaults(func=_show)
    export = actions.add_parser("export", help="one trace as a Markdown or JSON file")
    export.add_argument("trace", metavar="TRACE", help="trace id or .jsonl path")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    common(export)
    export.set_defaults(func=_export)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])


def _list(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.traces import list_traces

    traces = list_traces(args.dir)
    if args.json:
        emit_json([t.model_dump(mode="json") for t in traces])
        return 0
    if not traces:
        sys.stdout.write(f"no traces in {args.dir}\n")
    for t in traces:
        speed = f", best {t.best_speedup:.2f}x" if t.best_speedup is not None else ""
        sys.stdout.write(
            f"{t.id}  client {t.client or '?'}  {t.events} events  skills {','.join(t.skills_read) or '-'}  "
            f"compiles {t.compiles} ({t.compile_errors} failed)  benchmarks {t.benchmarks} "
            f"({t.correct_benchmarks} correct{speed})\n"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.traces import load_trace, render_markdown

    trace = load_trace(args.trace, args.dir)
    if args.json:
        emit_json(trace)
    else:
        sys.stdout.write(render_markdown(trace, sources=not args.no_sources))
    return 0


def _export(args: argparse.Namespace) -> int:
    from kernel_skills.traces import load_trace, render_markdown

    trace = load_trace(args.trace, args.dir)
    text = trace.model_dump_json(indent=2) + "\n" if args.format == "json" else render_markdown(trace)
    args.output.write_text(text, encoding="utf-8")
    if args.json:
        from kernel_skills.commands.output import emit_json

        emit_json({"ok": True, "trace": trace.id, "output": str(args.output), "format": args.format})
    else:
        sys.stdout.write(f"wrote {args.output}\n")
    return 0
