"""A trace as Markdown a person reads: one numbered step per event, each source shown once."""

from __future__ import annotations

from kernel_skills.traces.models import BenchRecord, CompileRecord, Trace, TraceEvent
from kernel_skills.traces.store import summarize


def _compile_line(c: CompileRecord) -> list[str]:
    opts = " ".join(c.options) or "no options"
    head = f"compile `{c.source_hash[:12]}` ({c.source_chars} chars, {c.arch}, {opts})"
    lines = [f"{head}: **{'ok' if c.ok else 'errors'}**"]
    for d in c.diagnostics:
        lines.append(f"   - {d.severity} {d.where()}: {d.message}")
    for k in c.kernels:
        occ = f", occupancy {k.occupancy:.0%}" if k.occupancy is not None else ""
        lines.append(
            f"   - kernel `{k.name}`: {k.registers} registers, {k.spill_stores or 0} spill stores, "
            f"{k.shared_bytes or 0} B shared{occ}"
        )
    for f in c.lint:
        lines.append(f"   - lint {f.rule} (line {f.line}): {f.message}")
    if c.sass_features:
        lines.append(f"   - SASS: {', '.join(c.sass_features)}")
    return lines


def _bench_line(b: BenchRecord) -> list[str]:
    what = f"`{b.source_hash[:12]}`" if b.source_hash else f"compile_id `{b.compile_id}`"
    launch = f"block {b.block} grid {b.grid} shared {b.shared_mem}"
    verdict = "correct" if b.correct else "incorrect"
    where = f" on {b.verified_on}" if b.verified_on else ""
    lines = [f"benchmark {b.problem} {what} `{b.kernel or '?'}` ({launch}): **{verdict}**{where}"]
    if b.time_us is not None:
        base = ", ".join(f"{k} {v:.1f} us" for k, v in b.baseline_us.items())
        speed = ", ".join(f"{k} {v:.2f}x" for k, v in b.speedup.items())
        lines.append(f"   - median {b.time_us:.1f} us; baseline {base}; speedup {speed}")
    lines.append(f"   - checks passed {b.checks_passed}, failed {len(b.checks_failed)}")
    for check in b.checks_failed[:5]:
        lines.append(f"   - failed {check.name}: {check.detail}")
    return lines


def _event_lines(e: TraceEvent) -> list[str]:
    if e.kind == "skills_listed":
        return ["listed the skills"]
    if e.kind in ("skill_read", "file_read"):
        size = f" ({e.chars} chars)" if e.chars is not None else ""
        return [f"read `{e.skill}/{e.path or 'SKILL.md'}`{size}"]
    if e.compile is not None:
        return _compile_line(e.compile)
    if e.benchmark is not None:
        return _bench_line(e.benchmark)
    return [f"{e.tool or e.method} {e.args}" if e.args else f"{e.tool or e.method}"]


def render_markdown(trace: Trace, *, sources: bool = True) -> str:
    s = summarize(trace)
    out = [
        f"# Trace {trace.id}",
        "",
        f"- client: {s.client or 'unknown'}; started {s.started}; {s.events} events",
        f"- skills read: {', '.join(s.skills_read) or 'none'}",
        f"- compiles: {s.compiles} ({s.compile_errors} with errors); benchmarks: {s.benchmarks} "
        f"({s.correct_benchmarks} correct)"
        + (f"; best speedup over torch eager {s.best_speedup:.2f}x" if s.best_speedup is not None else ""),
        "",
        "## Steps",
        "",
    ]
    shown: set[str] = set()
    for e in trace.events:
        if e.kind == "session":
            continue
        lines = _event_lines(e)
        status = "" if e.ok else f" — error: {e.error}"
        out.append(f"{e.seq}. [{e.at[11:23]} +{e.elapsed_s:.1f}s] {lines[0]}{status}")
        out.extend(lines[1:])
        digest = (e.compile.source_hash if e.compile else None) or (
            e.benchmark.source_hash if e.benchmark else None
        )
        if sources and digest and digest not in shown and digest in trace.sources:
            shown.add(digest)
            out += [
                "",
                "   ```cuda",
                *("   " + line for line in trace.sources[digest].splitlines()),
                "   ```",
            ]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
