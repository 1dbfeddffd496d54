"""`kernel-skills doctor [--json] [--no-build]`: what works on this machine and why not.

One line per piece (NVRTC and its headers, the compile worker's confinement, g++, the emulator's
engine and its confinement, torch, a GPU, CuPy, Ray, the data and cache folders), each with its
status and, when it is not ok, the fix; then what this machine can do. The emulator's engine is built
now if it is not yet (``--no-build`` only says whether it is). Exit 0 when every piece that is not
optional works, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kernel_skills.commands.serve import add_data_dir_argument, use_data_dir

if TYPE_CHECKING:
    from kernel_skills.doctor import DoctorReport


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="what works on this machine (NVRTC, emulator, torch, GPU, Ray, folders) and the fixes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--no-build", action="store_true", help="do not build the emulator's engine, only say if it is"
    )
    add_data_dir_argument(parser)
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.doctor import diagnose

    use_data_dir(args.data_dir)
    report = diagnose(build=not args.no_build)
    if args.json:
        emit_json(report)
    else:
        print_report(report)
    return 0 if report.ok else 1


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def print_report(report: DoctorReport) -> None:
    out = sys.stdout
    width = max(len(c.name) for c in report.checks)
    for check in report.checks:
        status = "absent" if check.optional and check.status == "missing" else check.status
        out.write(f"{status:8} {check.name:{width}}  {check.detail}\n")
        if check.fix and check.status != "ok":
            out.write(f"{'':8} {'':{width}}  fix: {check.fix}\n")
    can = report.capabilities
    out.write(
        f"\ncompile_kernel: {_yes(can.compile)}  benchmark on the CPU emulator: {_yes(can.emulator)}  "
        f"benchmark on a GPU: {_yes(can.gpu)}  Ray executor: {_yes(can.ray)}\n"
    )
    if not report.ok:
        out.write("something this server needs is missing: see the fixes above\n")
