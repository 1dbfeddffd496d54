"""What a model reads: each tool's text content, a compact summary of its structured result.

A client shows the model a tool result's text; the full result travels as ``structuredContent``
(and its ``outputSchema``) for applications. So the text holds the verdict, the first failing check
with its line, the key numbers and the next step, within a budget (about 4 characters a token:
a correct verdict <= 250 tokens, a failed one <= 400, a compile report <= 300, one problem <= 250,
asserted in tests/surface/test_answers.py); what never changes (the emulator's limits, the roofline
method) is in the skill, referenced by URI, not repeated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

if TYPE_CHECKING:
    from kernel_skills.bench import BenchResult, ProblemInfo, ProblemList, ResultList
    from kernel_skills.toolchain import CompileResult

READING = "skill://h100-cuda-kernels/references/reading-reports.md"
DETAIL_CHARS = 600  # of the first failing check's detail
LISTED = 5  # findings, diagnostics, other failed checks


def answer(result: BaseModel, text: str) -> CallToolResult:
    """The tool result: ``text`` for the model, ``result`` as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def compile_text(r: CompileResult) -> str:
    errors = [d for d in r.diagnostics if d.severity in ("error", "fatal")]
    took = "cache hit" if r.cached else f"{r.compile_ms / 1000:.1f} s"
    if not r.ok or errors:
        lines = [f"compile for {r.arch} FAILED ({took}): {len(errors)} error(s)"]
        for i, d in enumerate(errors[:LISTED]):
            lines.append(f"- {d.where()}: {d.message}")
            if i == 0 and d.excerpt:
                lines.append(_clip(d.excerpt, 300))
        return "\n".join(lines)
    lines = [f"compiled for {r.arch} ({took}); compile_id {r.compile_id}"]
    for k in r.kernels:
        text = f"kernel {k.name}: {k.registers} registers, spills {k.spill_stores}/{k.spill_loads}, "
        text += f"stack {k.stack_bytes} B, static shared {k.shared_bytes} B"
        if k.occupancy is not None:
            o = k.occupancy
            text += f"; occupancy {100 * o.occupancy:.0f}% at {o.block_size} threads ({o.limited_by})"
        lines.append(text)
    if r.sass is not None:
        lines.append("SASS features: " + (", ".join(r.sass.features) or "none"))
    warnings = [d for d in r.diagnostics if d.severity == "warning"]
    lines += [f"warning {d.where()}: {_clip(d.message, 160)}" for d in warnings[:LISTED]]
    if r.lint:
        lines.append("lint (fix these; each links its skill section):")
        lines += [f"- {f.rule}: {_clip(f.message, 160)} ({f.doc})" for f in r.lint[:LISTED]]
    else:
        lines.append("lint: clean")
    lines.append(f'next: benchmark_kernel(problem=..., compile_id="{r.compile_id}", block=[...], grid=[...])')
    return "\n".join(lines)


def bench_text(r: BenchResult) -> str:
    failed = [c for c in r.checks if not c.passed]
    where = (
        "on the CPU emulator"
        if r.verified_on == "cpu-emulator"
        else f"on {r.device.name}"
        if r.device
        else ""
    )
    ident = f"result #{r.result_id}" if r.result_id else "not stored"
    if r.verified_on is None:
        head = "did not compile"
    elif not r.correct:
        head = f"INCORRECT {where}"
    elif r.verified_on == "cpu-emulator":
        head = f"CORRECT {where} (not timed: timing needs a GPU)"
    else:
        head = ("OK" if r.ok else "CORRECT but not accepted") + f" {where}"
    lines = [f"{head}; {len(r.checks) - len(failed)} of {len(r.checks)} checks passed; {ident}"]
    if failed:
        first = failed[0]
        detail = first.detail.split("\nseed #2")[0]
        lines.append(f"FAILED {first.name}: {_clip(detail, DETAIL_CHARS)}")
        lines += [f"also failed: {c.name}" for c in failed[1 : 1 + LISTED]]
    lines += _timing_lines(r)
    if r.correct:
        lines += _counter_lines(r)
    lines += [f"warning: {_clip(w, 200)}" for w in r.warnings[:3]]
    lines += [f"emulator finding: {_clip(f, 200)}" for f in r.findings[:2]]
    if r.printf:
        lines.append(f"printf: {_clip(r.printf, 200)}")
    lines.append(_next_step(r, failed))
    return "\n".join(lines)


def _timing_lines(r: BenchResult) -> list[str]:
    if r.time_us is None:
        return []
    text = f"median {r.time_us.median:.2f} us (n {r.time_us.n})"
    if "torch_eager" in r.speedup:
        text += f", {r.speedup['torch_eager']:.2f}x vs torch eager"
    if r.roofline is not None and r.roofline.fraction_of_peak is not None:
        text += f", {100 * r.roofline.fraction_of_peak:.0f}% of the {r.roofline.bound}-bound roofline "
        text += f"(floor {r.roofline.floor_us:.2f} us)"
    return [text]


def _counter_lines(r: BenchResult) -> list[str]:
    c, e = r.counters, r.estimate
    lines = []
    if c is not None:
        sizes = ", ".join(f"{k}={v}" for k, v in c.shape.items())
        text = f"counters ({sizes}): traffic {c.traffic_vs_ideal}x ideal"
        if c.global_load.sectors_per_request is not None:
            text += f", loads {c.global_load.sectors_per_request:.1f} sectors/request"
            text += f" (ideal {c.global_load.ideal_sectors_per_request:.1f})"
        text += f", {c.shared.bank_conflicts} bank conflicts"
        if c.launch is not None:
            text += f", {c.launch.waves_on_h100:g} waves"
        lines.append(text)
    if e is not None:
        text = f"H100 estimate {e.time_us:.2f} us, {e.bound}-bound"
        if e.fraction_of_peak is not None:
            text += f", {100 * e.fraction_of_peak:.0f}% of the roofline"
        text += " (a model, not a measurement"
        text += f"; measured {e.measured_us:.2f} us)" if e.measured_us is not None else ")"
        lines.append(text)
    if c is not None:
        lines += [f"- {_clip(f.message, 220)} ({f.doc.split('#')[-1]})" for f in c.findings[:3]]
    return lines


def _next_step(r: BenchResult, failed: list) -> str:
    if failed:
        return "next: fix the first failed check, then benchmark again"
    if r.verified_on == "cpu-emulator":
        if r.counters is not None and r.counters.findings:
            return f"next: fix the first finding ({READING}), keep it if the estimate drops"
        return "next: no finding left; compare estimates of variants, or time it on a GPU"
    return "next: one change at a time; keep it if the median drops and every check passes"


def problem_text(info: ProblemInfo) -> str:
    shapes = "; ".join(
        f"{name}: "
        + ", ".join("(" + ", ".join(f"{k}={v}" for k, v in s.items()) + ")" for s in sets[:2])
        + (" …" if len(sets) > 2 else "")
        for name, sets in info.shapes.items()
    )
    tolerance = ", ".join(f"{d} atol {a:g} rtol {b:g}" for d, (a, b) in info.tolerance.items())
    return "\n".join(
        [
            f"{info.name}: {_clip(info.description, 200)}",
            f"signature: {info.signature}",
            f"outputs: {', '.join(info.outputs)}; sizes: {', '.join(info.size_variables)}",
            _clip(f"shapes: {shapes}", 320),
            f"timed: {', '.join(info.timed_shape_sets)}; emulator shapes: {len(info.emulator_shapes)}; "
            f"tolerance: {tolerance}",
        ]
    )


def problems_text(listing: ProblemList) -> str:
    if len(listing.problems) == 1:
        return problem_text(listing.problems[0])
    lines = [f"{p.name}: {_clip(p.description, 90)}" for p in listing.problems]
    lines += [f"invalid problem module {bad['path']}: {_clip(bad['error'], 160)}" for bad in listing.invalid]
    lines.append("list_problems(name=...) gives one problem's signature, shapes and tolerance")
    return "\n".join(lines)


def results_text(listing: ResultList) -> str:
    if not listing.results:
        return f"no stored results for {listing.problem}"
    lines = [f"{len(listing.results)} results for {listing.problem}, best first:"]
    lines += [
        f"#{r.id} {r.kernel or '?'} ({r.created[:16]}): {_clip(r.summary, 200)}" for r in listing.results
    ]
    return "\n".join(lines)


__all__ = [
    "answer",
    "bench_text",
    "compile_text",
    "problem_text",
    "problems_text",
    "results_text",
]
