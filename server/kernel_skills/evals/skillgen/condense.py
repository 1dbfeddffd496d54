"""A trace condensed by its structure, for a teacher model: what went wrong, and what made it go away.

Not cut at a character count: each compile that failed is paired with the next compile that succeeded
(the errors, and the source diff that fixed them); each lint finding that disappeared is paired with
the diff that removed it; each benchmark is compared with the previous one on the same problem
(verdict and time deltas); tool errors are listed once each; the best kernel is kept whole. A long
session condenses to its lessons, so several traces fit in one prompt.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, Field

from kernel_skills.traces import BenchRecord, CompileRecord, Trace

MAX_DIFF_LINES = 40
MAX_ERRORS = 12


class Fix(BaseModel):
    problem: str  # the errors or lint findings
    diff: str  # unified diff of the source from the failing attempt to the fixing one


class BenchDelta(BaseModel):
    problem: str
    change: str  # e.g. "incorrect -> correct", "41.0 us -> 12.5 us (speedup 0.8x -> 2.6x)"
    failed_checks: list[str] = Field(default_factory=list)  # of the earlier attempt


class Condensed(BaseModel):
    traces: list[str]
    skills_read: list[str] = Field(default_factory=list)
    compiles: int = 0
    failed_compiles: int = 0
    benchmarks: int = 0
    compile_fixes: list[Fix] = Field(default_factory=list)
    lint_fixes: list[Fix] = Field(default_factory=list)
    bench_deltas: list[BenchDelta] = Field(default_factory=list)
    tool_errors: list[str] = Field(default_factory=list)
    best_kernel: str | None = None
    best_kernel_note: str = ""


def _diff(before: str, after: str) -> str:
    lines = list(
        difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", n=1, lineterm="")
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def _errors(c: CompileRecord) -> str:
    errors = [d for d in c.diagnostics if d.severity in ("error", "fatal")] or c.diagnostics
    return "; ".join(f"{d.where()}: {d.message}" for d in errors[:4]) or "did not compile"


def _time(b: BenchRecord) -> str:
    speed = f" (speedup {b.speedup['torch_eager']:.2f}x)" if "torch_eager" in b.speedup else ""
    return f"{b.time_us:.1f} us{speed}" if b.time_us is not None else "not timed"


def _bench_delta(prev: BenchRecord, cur: BenchRecord) -> BenchDelta | None:
    if prev.correct != cur.correct:
        change = (
            f"{'correct' if prev.correct else 'incorrect'} -> {'correct' if cur.correct else 'incorrect'}"
        )
    elif cur.correct and prev.time_us != cur.time_us:
        change = f"{_time(prev)} -> {_time(cur)}"
    else:
        return None
    return BenchDelta(
        problem=cur.problem,
        change=change,
        failed_checks=[f"{c.name}: {c.detail}" for c in prev.checks_failed[:3]],
    )


def condense(traces: list[Trace]) -> Condensed:
    out = Condensed(traces=[t.id for t in traces])
    for trace in traces:
        pending: tuple[CompileRecord, str] | None = None  # the last failing compile not fixed yet
        lint_open: dict[str, tuple[str, str]] = {}  # rule -> (message, source)
        last_bench: dict[str, BenchRecord] = {}
        for event in trace.events:
            if event.kind in ("skill_read", "file_read") and event.ok and event.skill:
                label = f"{event.skill}/{event.path or 'SKILL.md'}"
                if label not in out.skills_read:
                    out.skills_read.append(label)
            error = f"{event.tool or event.method}: {(event.error or '')[:300]}"
            if not event.ok and error not in out.tool_errors and len(out.tool_errors) < MAX_ERRORS:
                out.tool_errors.append(error)
            c = event.compile
            if c is not None and event.ok:
                out.compiles += 1
                source = trace.sources.get(c.source_hash, "")
                if not c.ok:
                    out.failed_compiles += 1
                    if pending is None:
                        pending = (c, source)
                    continue
                if pending is not None:
                    out.compile_fixes.append(Fix(problem=_errors(pending[0]), diff=_diff(pending[1], source)))
                    pending = None
                rules = {f.rule: f.message for f in c.lint}
                for rule, (message, before) in list(lint_open.items()):
                    if rule not in rules:
                        out.lint_fixes.append(Fix(problem=f"{rule}: {message}", diff=_diff(before, source)))
                        del lint_open[rule]
                for rule, message in rules.items():
                    lint_open.setdefault(rule, (message, source))
                if out.best_kernel is None or not out.best_kernel_note.startswith("benchmarked"):
                    out.best_kernel, out.best_kernel_note = source, "the last kernel that compiled"
            b = event.benchmark
            if b is not None and event.ok:
                out.benchmarks += 1
                prev = last_bench.get(b.problem)
                if prev is not None and (delta := _bench_delta(prev, b)) is not None:
                    out.bench_deltas.append(delta)
                last_bench[b.problem] = b
                source = trace.sources.get(b.source_hash or "", "")
                if b.correct and source:
                    out.best_kernel, out.best_kernel_note = (
                        source,
                        f"benchmarked correct on {b.problem}, {_time(b)}",
                    )
    return out


def render(c: Condensed) -> str:
    """The condensed traces as the text the teacher reads."""
    parts = [
        f"Traces: {', '.join(c.traces)}",
        f"Skill files read: {', '.join(c.skills_read) or 'none'}",
        f"Compiles: {c.compiles} ({c.failed_compiles} failed); benchmarks: {c.benchmarks}",
    ]
    for n, fix in enumerate(c.compile_fixes, 1):
        parts += [f"\nCompile error {n}: {fix.problem}\nThe change that fixed it:\n```diff\n{fix.diff}\n```"]
    for n, fix in enumerate(c.lint_fixes, 1):
        parts += [f"\nLint finding fixed {n}: {fix.problem}\nThe change:\n```diff\n{fix.diff}\n```"]
    for delta in c.bench_deltas:
        failed = f" (earlier failures: {'; '.join(delta.failed_checks)})" if delta.failed_checks else ""
        parts.append(f"\nBenchmark {delta.problem}: {delta.change}{failed}")
    if c.tool_errors:
        parts.append("\nTool errors met:\n" + "\n".join(f"- {e}" for e in c.tool_errors))
    if c.best_kernel:
        parts.append(f"\nBest kernel ({c.best_kernel_note}):\n```cuda\n{c.best_kernel}\n```")
    return "\n".join(parts)
