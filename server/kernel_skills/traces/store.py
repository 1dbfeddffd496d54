"""Reading traces back: list a record folder, load one trace (by id or path) with its sources."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from kernel_skills.errors import RefusedInput
from kernel_skills.traces.models import Trace, TraceEvent, TraceSummary
from kernel_skills.traces.recorder import SOURCE_SUFFIX, SOURCES

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _resolve(ref: str | Path, folder: Path) -> Path:
    path = Path(ref)
    if path.suffix == ".jsonl" and path.is_file():
        return path
    name = str(ref)
    if not _ID.match(name) or name.startswith("."):
        raise RefusedInput(f"{name!r} is not a trace id or .jsonl file; see `kernel-skills traces list`")
    candidate = folder / f"{name.removesuffix('.jsonl')}.jsonl"
    if not candidate.is_file():
        raise RefusedInput(f"no trace {name!r} in {folder}; see `kernel-skills traces list --dir {folder}`")
    return candidate


def _read_events(path: Path) -> list[TraceEvent]:
    events: list[TraceEvent] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedInput(f"cannot read the trace {path}: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(TraceEvent.model_validate_json(line))
        except ValidationError as exc:
            if n == len(lines):  # a server killed mid-write leaves a partial last line: skip it
                break
            raise RefusedInput(f"{path}:{n} is not a trace event: {exc.errors()[0]['msg']}") from exc
    return events


def source_text(folder: Path, digest: str) -> str | None:
    if not _HASH.match(digest):
        return None
    target = folder / SOURCES / f"{digest}{SOURCE_SUFFIX}"
    try:
        return target.read_text(encoding="utf-8", errors="surrogatepass")
    except OSError:
        return None


def load_trace(ref: str | Path, folder: Path | None = None) -> Trace:
    """The trace ``ref`` (an id in ``folder``, or a .jsonl path) with every source it names."""
    path = _resolve(ref, Path(folder) if folder is not None else Path("."))
    events = _read_events(path)
    sources: dict[str, str] = {}
    for event in events:
        for digest in (
            event.compile.source_hash if event.compile else None,
            event.benchmark.source_hash if event.benchmark else None,
        ):
            if digest and digest not in sources and (text := source_text(path.parent, digest)) is not None:
                sources[digest] = text
    return Trace(id=path.stem, path=str(path), events=events, sources=sources)


def summarize(trace: Trace) -> TraceSummary:
    events = trace.events
    compiles = [e.compile for e in events if e.compile is not None]
    benches = [e.benchmark for e in events if e.benchmark is not None]
    speedups = [b.speedup["torch_eager"] for b in benches if b.correct and "torch_eager" in b.speedup]
    skills = []
    for e in events:
        if e.kind in ("skill_read", "file_read") and e.skill and e.ok:
            label = e.skill if not e.path or e.path == "SKILL.md" else f"{e.skill}/{e.path}"
            if label not in skills:
                skills.append(label)
    return TraceSummary(
        id=trace.id,
        path=trace.path,
        client=next((e.client for e in events if e.client), None),
        started=events[0].at if events else None,
        events=len(events),
        skills_read=skills,
        compiles=len(compiles),
        compile_errors=sum(not c.ok for c in compiles),
        benchmarks=len(benches),
        correct_benchmarks=sum(b.correct for b in benches),
        best_speedup=max(speedups) if speedups else None,
    )


def list_traces(folder: Path) -> list[TraceSummary]:
    """Every trace in ``folder``, oldest first (ids start with their UTC start time)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RefusedInput(
            f"{folder} is not a trace folder (record one with `kernel-skills serve --record DIR`)"
        )
    return [summarize(load_trace(p)) for p in sorted(folder.glob("*.jsonl"))]
