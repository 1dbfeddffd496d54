"""`kernel-skills compile FILE.cu`: compile with NVRTC (no GPU) and report what the kernel will do.

Exit 0 compiled, 1 compile errors, 2 refused input (option, include, arch, unreadable file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel_skills.toolchain import CompileResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile a .cu file with NVRTC for sm_90a and report registers, SASS features and lint",
        description=__doc__,
    )
    parser.add_argument("file", type=Path, metavar="FILE.cu")
    parser.add_argument(
        "--arch", default="sm_90a", help="target (default sm_90a; also sm_80, sm_86, sm_89, sm_90...)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="OPT",
        help="an allow-listed NVRTC option, e.g. --option -use_fast_math (repeatable)",
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="an inline header the source may #include as NAME, read from PATH (repeatable)",
    )
    parser.add_argument("--block-size", type=int, default=None, help="threads per block, for occupancy")
    parser.add_argument("--shared-mem", type=int, default=None, help="dynamic shared memory bytes per block")
    parser.add_argument("--ptx", action="store_true", help="also print (or include in --json) the PTX")
    parser.add_argument("--json", action="store_true", help="print one JSON document (the full report)")
    add_unconfined_argument(parser)
    parser.set_defaults(func=_compile)


def add_unconfined_argument(parser: argparse.ArgumentParser) -> None:
    """``--unconfined`` (``cli.main`` sets ``KERNEL_SKILLS_UNCONFINED=1``); ``--unconfined-compile``, its
    old name, is still accepted (hidden, deprecated) so that existing configurations keep working."""
    parser.add_argument(
        "--unconfined",
        action="store_true",
        help="run NVRTC without its confinement, and the CPU emulator's engine unconfined where Landlock "
        "is missing (trusted local use only: submitted source could then read any file this user can; "
        "also KERNEL_SKILLS_UNCONFINED=1)",
    )
    parser.add_argument(
        "--unconfined-compile", dest="unconfined", action="store_true", help=argparse.SUPPRESS
    )


def _compile(args: argparse.Namespace) -> int:
    from kernel_skills.commands.output import emit_json
    from kernel_skills.errors import RefusedInput
    from kernel_skills.runtime import Runtime
    from kernel_skills.toolchain import CompileRequest, compile_source

    source = _read(args.file, "source file")
    headers: dict[str, str] = {}
    for item in args.header:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise RefusedInput(
                f"--header {item!r}: expected NAME=PATH, e.g. --header common.cuh=src/common.cuh"
            )
        headers[name] = _read(Path(path), f"header {name}")
    request = CompileRequest(
        source=source,
        arch=args.arch,
        options=args.option,
        headers=headers,
        block_size=args.block_size,
        shared_mem=args.shared_mem,
        want_ptx=args.ptx,
    )
    with Runtime.create() as runtime:
        result = compile_source(request, toolchain=runtime.toolchain)
    if args.json:
        emit_json(result)
    else:
        sys.stdout.write(render(result, str(args.file)))
    return 0 if result.ok else 1


def _read(path: Path, what: str) -> str:
    from kernel_skills.errors import RefusedInput

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedInput(f"cannot read {what} {path}: {exc}") from exc


def render(result: CompileResult, filename: str) -> str:
    """Human report: diagnostics with code frames, then kernels, SASS features and lint."""
    out: list[str] = []
    for diag in result.diagnostics:
        file = filename if diag.file == "kernel.cu" else diag.file
        where = f"{file}:{diag.line}" + (f":{diag.column}" if diag.column else "")
        code = f" [{diag.code}]" if diag.code else ""
        out.append(f"{where}: {diag.severity}{code}: {diag.message}")
        if diag.excerpt:
            out.append(diag.excerpt)
        out.append("")
    status = "ok" if result.ok else "FAILED"
    cached = ", cached" if result.cached else ""
    errors = sum(d.severity in ("error", "fatal") for d in result.diagnostics)
    out.append(
        f"{filename}: {status} for {result.arch} "
        f"(NVRTC {result.nvrtc_version}, {result.compile_ms:.0f} ms{cached})"
        + (f", {errors} error(s)" if errors else "")
    )
    if result.withheld:
        out.append(f"{result.withheld} diagnostic(s) outside the submission were withheld")
    if result.kernels:
        out += ["", _kernels_table(result)]
    if result.sass is not None:
        out.append("")
        out.append("SASS features: " + (", ".join(result.sass.features) or "none"))
        for kernel in result.sass.per_kernel:
            if len(result.sass.per_kernel) > 1:
                out.append(
                    f"  {kernel.name}: {', '.join(kernel.features) or 'none'} ({kernel.instructions} instr)"
                )
    if result.lint:
        out.append("")
        out.append("Lint:")
        for finding in result.lint:
            line = f" (line {finding.line})" if finding.line else ""
            out.append(f"  [{finding.rule}]{line} {finding.message}")
            out.append(f"      see {finding.doc}")
    if result.compile_id:
        out += ["", f"compile id: {result.compile_id}"]
    if result.ptx:
        out += ["", result.ptx]
    return "\n".join(out) + "\n"


def _kernels_table(result: CompileResult) -> str:
    header = ("kernel", "regs", "spill st/ld", "stack", "smem", "bars", "params", "occupancy")
    rows = [header]
    for k in result.kernels:
        occ = (
            f"{k.occupancy.occupancy:.0%} @{k.occupancy.block_size} ({k.occupancy.limited_by})"
            if k.occupancy
            else "-"
        )
        params = ",".join(str(size) for size in k.param_sizes) if k.param_sizes is not None else "?"
        name = k.name if k.demangled is None else f"{k.demangled} [{k.name}]"
        rows.append(
            (
                name,
                str(k.registers),
                f"{k.spill_stores}/{k.spill_loads}",
                str(k.stack_bytes),
                str(k.shared_bytes),
                str(k.barriers),
                params,
                occ,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)
