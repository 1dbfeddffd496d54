"""`kernel-skills bench` and `kernel-skills calibrate` (`problems` is in commands/problems.py).

Exit codes (``errors.EXIT_CODES``): 0 ok (on the CPU emulator: correct); 1 the kernel was judged and
failed (compile error, incorrect, implausible); 2 bad input; 3 no usable device (DeviceUnavailable: no
GPU with --device gpu, or no confinement/g++ for the emulator); 4 the problem module is broken
(ProblemError); 5 the CPU emulator cannot run the kernel (EmulatorUnsupported).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kernel_skills.commands.compile import add_unconfined_argument
from kernel_skills.commands.output import emit_json
from kernel_skills.commands.pool import add_executor_arguments, command_runtime


def split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: "ceil_div(rows, 4),1" -> ["ceil_div(rows, 4)", "1"]."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _block(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--block {text!r}: expected X[,Y[,Z]] positive integers") from exc


def add_problems_dir_argument(parser: argparse.ArgumentParser) -> None:
    """`--problems-dir DIR` (repeatable): shared by `problems`, `bench`, `serve` and `eval`."""
    parser.add_argument(
        "--problems-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="also load problem modules (*.py) from DIR (trusted code; repeatable)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="check and time a CUDA kernel against a problem's PyTorch reference on the GPU",
        description="Without FILE, benchmarks the bundled reference solution (kernels/solutions.json).",
    )
    bench.add_argument(
        "file", nargs="?", type=Path, metavar="FILE.cu", help="CUDA C++ source (device code only)"
    )
    bench.add_argument("--problem", required=True, help="problem name (see `kernel-skills problems`)")
    bench.add_argument("--kernel", help='extern "C" kernel name (optional when the module has one kernel)')
    bench.add_argument("--block", type=_block, help="block size X[,Y,Z] (default 256, or the solution's)")
    bench.add_argument("--grid", help='grid expressions, e.g. "ceil_div(rows, 16),1,1" (required with FILE)')
    bench.add_argument("--shared-mem", help="dynamic shared memory bytes, an expression (default 0)")
    bench.add_argument("--shapes", help="comma-separated shape-set names (default: all)")
    bench.add_argument(
        "--baseline",
        action="append",
        choices=["torch_eager", "torch_compile"],
        help="PyTorch baselines to time (repeatable; default torch_eager)",
    )
    bench.add_argument("--option", action="append", default=None, help="compile option (repeatable)")
    bench.add_argument("--quick", action="store_true", help="shorter timing cap (smoke run)")
    bench.add_argument(
        "--device",
        choices=["auto", "gpu", "emulator"],
        default="auto",
        help="auto (default): the GPU if usable, else the CPU emulator (correctness, counters and an H100 "
        "estimate); gpu; emulator",
    )
    bench.add_argument(
        "--counters",
        action="store_true",
        help="on a GPU, also run the CPU emulator for its counters and estimate beside the measured time",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON document")
    add_problems_dir_argument(bench)
    add_unconfined_argument(bench)
    add_executor_arguments(bench)
    bench.set_defaults(func=run_bench)

    calibrate = subparsers.add_parser(
        "calibrate", help="measure this GPU's copy bandwidth and bf16 matmul rate (cached for the roofline)"
    )
    calibrate.add_argument("--json", action="store_true", help="print one JSON document")
    calibrate.add_argument(
        "--estimate",
        action="store_true",
        help="only refit the emulator's H100 estimate to the stored GPU results that carry one "
        "(from `bench --counters`); needs no GPU",
    )
    add_executor_arguments(calibrate)
    calibrate.set_defaults(func=run_calibrate)


def build_request(args: argparse.Namespace) -> Any:
    """The BenchRequest for a FILE, or for the bundled solution (flags override the solution)."""
    from kernel_skills.bench import BenchRequest
    from kernel_skills.errors import RefusedInput

    fields: dict[str, Any] = {
        "problem": args.problem,
        "quick": args.quick,
        "device": args.device,
        "counters": args.counters,
    }
    if args.file is None:
        from kernel_skills.bench import solution_request_fields

        fields.update(solution_request_fields(args.problem))
    else:
        try:
            fields["source"] = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RefusedInput(f"cannot read {args.file}: {exc}") from exc
        if args.grid is None:
            raise RefusedInput('--grid is required with FILE, e.g. --grid "ceil_div(rows, 16),1,1"')
    for name in ("kernel", "block", "shared_mem"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.grid is not None:
        fields["grid"] = split_top_level(args.grid)
    if args.shapes:
        fields["shapes"] = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if args.baseline:
        fields["baseline"] = args.baseline
    if args.option is not None:
        fields["options"] = args.option
    try:
        return BenchRequest.model_validate(fields)
    except ValueError as exc:
        raise RefusedInput(f"bad benchmark request: {exc}") from exc


def _progress(done: float, total: float, message: str) -> None:
    sys.stderr.write(f"[{int(done)}/{int(total)}] {message}\n")
    sys.stderr.flush()


def run_bench(args: argparse.Namespace) -> int:
    from kernel_skills.bench import load_registry
    from kernel_skills.dispatch import benchmark

    request = build_request(args)
    with command_runtime(args) as runtime:
        result = benchmark(
            request, runtime=runtime, registry=load_registry(args.problems_dir), progress=_progress
        )
    if args.json:
        emit_json(result)
    else:
        print(render_result(result))
    return 0 if result.ok else 1


def render_result(result: Any) -> str:
    lines = [f"problem {result.problem}" + (f", kernel {result.kernel.name}" if result.kernel else "")]
    if result.verified_on == "cpu-emulator":
        lines[0] += ", verified on the CPU emulator"
    elif result.device is not None:
        lines[0] += f", on {result.device.name}"
    for check in result.checks:
        mark = "PASS" if check.passed else "FAIL"
        detail = check.detail.replace("\n", "\n       ")
        lines.append(f"  {mark} {check.name}: {detail}")
    for t in result.timings:
        sizes = ", ".join(f"{k}={v}" for k, v in t.sizes.items())
        s = t.time_us
        lines.append(
            f"{t.shape_set} ({sizes}): median {s.median:.2f} us (mean {s.mean:.2f}, std {s.std:.2f}, n {s.n})"
        )
        for name, stats in t.baseline_us.items():
            lines.append(f"  {name}: median {stats.median:.2f} us -> speedup {t.speedup[name]:.2f}x")
        r = t.roofline
        fraction = f"{100 * r.fraction_of_peak:.0f}%" if r.fraction_of_peak is not None else "n/a"
        lines.append(
            f"  achieved {t.achieved.gbps:.0f} GB/s, {t.achieved.tflops:.2f} TFLOP/s; {r.bound}-bound floor "
            f"{r.floor_us:.2f} us -> {fraction} of the measured peak"
        )
    if result.counters is not None:
        lines += render_counters(result.counters)
    if result.estimate is not None:
        lines.append(render_estimate(result.estimate))
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    for note in result.notes:
        lines.append(f"note: {note}")
    if result.verified_on == "cpu-emulator":
        verdict = "CORRECT (verified on the CPU emulator, not timed)" if result.correct else "FAILED"
    else:
        verdict = "OK" if result.ok else ("CORRECT but not accepted" if result.correct else "FAILED")
    lines.append(f"verdict: {verdict}" + (f" (result #{result.result_id})" if result.result_id else ""))
    return "\n".join(lines)


def render_counters(c: Any) -> list[str]:
    """The emulator's counters as a compact table, then their findings, most costly first."""

    def pct(x: float | None) -> str:
        return f"{100 * x:.0f}%" if x is not None else "-"

    def num(x: float | None) -> str:
        return f"{x:.1f}" if x is not None else "-"

    sizes = ", ".join(f"{k}={v}" for k, v in c.shape.items())
    lines = [f"counters ({sizes}; PTX instructions, one launch):"]
    lines.append(f"  {'':<13} {'requests':>9} {'sectors/req':>11} {'ideal':>6} {'efficiency':>10}")
    for name, m in (("global load", c.global_load), ("global store", c.global_store)):
        lines.append(
            f"  {name:<13} {m.requests:>9} {num(m.sectors_per_request):>11} "
            f"{num(m.ideal_sectors_per_request):>6} {pct(m.efficiency):>10}"
        )
    s = c.shared
    lines.append(
        f"  shared: {s.requests} requests, {s.wavefronts} wavefronts (ideal {s.ideal_wavefronts}), "
        f"{s.bank_conflicts} bank conflicts"
    )
    lines.append(
        f"  traffic vs ideal {num(c.traffic_vs_ideal)}x, unique {num(c.unique_traffic_vs_ideal)}x; "
        + ", ".join(f"{k} {v}" for k, v in c.instructions.items())
    )
    if c.launch is not None:
        lines.append(
            f"  launch at {c.launch.shape}: {c.launch.blocks} blocks of {c.launch.warps_per_block} warps, "
            f"{c.launch.waves_on_h100:g} waves on 132 SMs"
        )
    lines += [f"  finding: {f.message}" for f in c.findings]
    return lines


def render_estimate(e: Any) -> str:
    """The estimate in one line, labelled as a model, beside the measurement when a GPU timed it."""
    sizes = ", ".join(f"{k}={v}" for k, v in e.shape.items())
    fraction = f", {100 * e.fraction_of_peak:.0f}% of the roofline" if e.fraction_of_peak is not None else ""
    text = f"H100 estimate ({sizes}): {e.time_us:.2f} us, {e.bound}-bound{fraction}"
    text += " (a model, not a measurement"
    if e.measured_us is not None and e.error is not None:
        text += f"; measured {e.measured_us:.2f} us, error {e.error:+.0%}"
    return text + ")"


def run_calibrate(args: argparse.Namespace) -> int:
    """Measure the GPU's peaks, then refit the estimate; with --estimate only the refit (no GPU)."""
    from kernel_skills.bench import refit_estimate

    if args.estimate:
        model = refit_estimate()
        if args.json:
            emit_json(model)
        else:
            print(render_estimate_model(model))
        return 0
    from kernel_skills.dispatch import calibrate

    with command_runtime(args) as runtime:
        result = calibrate(executor=runtime.executor)
    model = refit_estimate()
    if args.json:
        emit_json(result)
    else:
        print(
            f"{result.device.name}: copy {result.peaks.copy_gbps:.0f} GB/s (read + write), "
            f"bf16 matmul {result.peaks.bf16_tflops:.0f} TFLOP/s ({result.method})"
        )
        print(render_estimate_model(model))
    return 0


def render_estimate_model(m: Any) -> str:
    if not m.fitted_on:
        return (
            f"estimate model: defaults (scale {m.scale:g}, launch {m.launch_us:g} us); no stored GPU result "
            "carries an estimate yet: run `kernel-skills bench --counters` on a GPU to measure its error"
        )
    return (
        f"estimate model fitted on {m.fitted_on} measured kernels: scale {m.scale:g}, launch {m.launch_us:g} "
        f"us; median error {m.median_error_before:.0%} before, {m.median_error_after:.0%} after"
    )
