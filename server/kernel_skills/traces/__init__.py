"""Traces: what an agent did with this server, in order (skills read, compiles, benchmarks). No MCP imports.

A trace is one client connection's JSON Lines file ``<id>.jsonl`` in the record folder; each source
compiled or benchmarked is stored once, by its sha256, under ``sources/``.
"""

from kernel_skills.traces.models import (
    BenchRecord,
    CompileRecord,
    Trace,
    TraceEvent,
    TraceSummary,
)
from kernel_skills.traces.recorder import TraceRecorder, TraceSession, client_slug
from kernel_skills.traces.records import bench_record, compile_record
from kernel_skills.traces.render import render_markdown
from kernel_skills.traces.store import list_traces, load_trace

__all__ = [
    "BenchRecord",
    "CompileRecord",
    "Trace",
    "TraceEvent",
    "TraceRecorder",
    "TraceSession",
    "TraceSummary",
    "bench_record",
    "client_slug",
    "compile_record",
    "list_traces",
    "load_trace",
    "render_markdown",
]
