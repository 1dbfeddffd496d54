"""`kernel-skills problems [check DIR... | import-kernelbench FILE... --out DIR]`.

Without an action: list the problems (bundled and from --problems-dir) and their kernel ABIs.
`check`: validate problem modules without a kernel. `import-kernelbench`: write problem modules from
KernelBench problem files. Exit codes (``errors.EXIT_CODES``): 0 ok; 2 bad input; 4 a problem
module is broken (ProblemError) or a KernelBench file could not be imported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kernel_skills.commands.bench import add_problems_dir_argument
from kernel_skills.commands.output import emit_json

PROBLEM_ERROR_EXIT = 4  # errors.EXIT_CODES: a problem module is broken


def register(subparsers: argparse._SubParsersAction) -> None:
    problems = subparsers.add_parser(
        "problems",
        help="list the benchmark problems and their kernel ABIs; check or import problem modules",
        description="Problem modules are documented in docs/problems.md.",
    )
    problems.add_argument("--json", action="store_true", help="print one JSON document")
    add_problems_dir_argument(problems)
    problems.set_defaults(func=run_list)
    actions = problems.add_subparsers(dest="action", metavar="ACTION", parser_class=type(problems))

    check = actions.add_parser(
        "check", help="validate problem modules without a kernel (their functions on the smallest shape)"
    )
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a problem module or a folder")
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.set_defaults(func=run_check)

    kb = actions.add_parser(
        "import-kernelbench",
        help="write problem modules from KernelBench problem files (Model, get_inputs, get_init_inputs)",
    )
    kb.add_argument("files", nargs="+", type=Path, metavar="FILE.py", help="KernelBench problem files")
    kb.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the problem modules")
    kb.add_argument("--json", action="store_true", help="print one JSON document")
    kb.set_defaults(func=run_import_kernelbench)


def run_list(args: argparse.Namespace) -> int:
    from kernel_skills.bench import list_problems

    listing = list_problems(problems_dirs=args.problems_dir)
    if args.json:
        emit_json(listing)
    else:
        for p in listing.problems:
            print(f"{p.name}: {p.description}")
            print(f"  {p.signature}")
            for set_name, shapes in p.shapes.items():
                shown = "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in shapes)
                print(f"  {set_name}: {shown}")
            shown = "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in p.emulator_shapes)
            print(f"  CPU emulator: {shown}")
        print(f"\n{listing.expression_syntax}")
    for bad in listing.invalid:
        sys.stderr.write(f"invalid: {bad['error']}\n")
    return PROBLEM_ERROR_EXIT if listing.invalid else 0


def run_check(args: argparse.Namespace) -> int:
    from kernel_skills.bench import check_problems

    report = check_problems(args.paths)
    if args.json:
        emit_json(report)
    else:
        for m in report.modules:
            if m.ok:
                shape = ", ".join(f"{k}={v}" for k, v in (m.shape or {}).items())
                print(f"ok {m.path}: {m.problem} (its functions checked at {shape})")
            else:
                print(f"FAILED {m.error}")
    return 0 if report.ok else PROBLEM_ERROR_EXIT


def run_import_kernelbench(args: argparse.Namespace) -> int:
    from kernel_skills.bench import import_files

    report = import_files(args.files, args.out)
    if args.json:
        emit_json(report)
    else:
        for item in report.files:
            if item.ok:
                print(f"ok {item.file} -> {item.module} ({item.problem})")
            else:
                print(f"refused {item.file}: {item.reason}")
        print(f"{report.imported} imported, {report.refused} refused")
    return 0 if report.refused == 0 else PROBLEM_ERROR_EXIT


__all__ = ["register"]
