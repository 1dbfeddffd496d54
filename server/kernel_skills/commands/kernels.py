"""`kernel-skills kernels check DIR`: validate a kernel-builder project (build.toml + layout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kernels", help="check a Hugging Face kernel-builder project")
    actions = parser.add_subparsers(dest="kernels_command", metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="validate build.toml (edition 5) and the project layout (exit 0 valid, 1 invalid, 2 bad usage)",
    )
    check.add_argument("directory", type=Path, metavar="DIR", help="the project directory (holds build.toml)")
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.set_defaults(func=_check)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.kernelbuilder import check_project

    result = check_project(args.directory)
    if args.json:
        emit_json(result)
    else:
        status = "valid" if result.valid else "INVALID"
        name = f" ({result.name})" if result.name else ""
        print(f"{result.path}{name}: {status}, {len(result.kernels)} kernel(s)")
        for issue in result.errors:
            print(f"  error   {issue.field}: {issue.message}")
        for issue in result.warnings:
            print(f"  warning {issue.field}: {issue.message}")
    return 0 if result.valid else 1
