"""Condensed records of one tool call, built from its arguments and its structured result (wire dicts).

Only what a reader of the session needs is kept: the source goes to the content store once (by hash),
diagnostics and lint without code frames, per-kernel resources, benchmark verdicts and medians.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel_skills.traces.models import (
    BenchRecord,
    CheckRecord,
    CompileRecord,
    DiagnosticRecord,
    KernelRecord,
    LintRecord,
)

MAX_DETAIL = 300
MAX_ITEMS = 20

StoreSource = Callable[[str], str]  # source text -> its hash (stored once)


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _median(stats: Any) -> float | None:
    if isinstance(stats, dict) and isinstance(stats.get("median"), int | float):
        return float(stats["median"])
    return None


def compile_record(args: dict[str, Any], result: dict[str, Any] | None, store: StoreSource) -> CompileRecord:
    source = args.get("source") if isinstance(args.get("source"), str) else ""
    headers = args.get("headers")
    record = CompileRecord(
        source_hash=store(source),
        source_chars=len(source),
        arch=str(args.get("arch") or "sm_90a"),
        options=_str_list(args.get("options")),
        headers=sorted(str(k) for k in headers) if isinstance(headers, dict) else [],
        block_size=args.get("block_size") if isinstance(args.get("block_size"), int) else None,
    )
    if not result:
        return record
    record.ok = bool(result.get("ok"))
    record.compile_id = result.get("compile_id")
    record.diagnostics = [
        DiagnosticRecord(
            severity=str(d.get("severity", "")),
            line=d.get("line"),
            message=str(d.get("message", ""))[:MAX_DETAIL],
            code=d.get("code"),
            file=str(d["file"])[:MAX_DETAIL] if d.get("file") else None,
        )
        for d in (result.get("diagnostics") or [])[:MAX_ITEMS]
    ]
    record.kernels = [
        KernelRecord(
            name=str(k.get("name", "")),
            registers=k.get("registers"),
            spill_stores=k.get("spill_stores"),
            spill_loads=k.get("spill_loads"),
            shared_bytes=k.get("shared_bytes"),
            occupancy=(k.get("occupancy") or {}).get("occupancy"),
        )
        for k in (result.get("kernels") or [])[:MAX_ITEMS]
    ]
    record.lint = [
        LintRecord(
            rule=str(f.get("rule", "")), message=str(f.get("message", ""))[:MAX_DETAIL], line=f.get("line")
        )
        for f in (result.get("lint") or [])[:MAX_ITEMS]
    ]
    record.sass_features = _str_list((result.get("sass") or {}).get("features"))
    return record


def bench_record(args: dict[str, Any], result: dict[str, Any] | None, store: StoreSource) -> BenchRecord:
    source = args.get("source")
    block = args.get("block")
    record = BenchRecord(
        problem=str(args.get("problem", "")),
        kernel=args.get("kernel") if isinstance(args.get("kernel"), str) else None,
        block=[b for b in block if isinstance(b, int)] if isinstance(block, list) else [],
        grid=_str_list(args.get("grid")),
        shared_mem=str(args.get("shared_mem", "0")),
        shapes=_str_list(args["shapes"]) if isinstance(args.get("shapes"), list) else None,
        source_hash=store(source) if isinstance(source, str) else None,
        compile_id=args.get("compile_id") if isinstance(args.get("compile_id"), str) else None,
    )
    if not result:
        return record
    checks = result.get("checks") or []
    record.ok = bool(result.get("ok"))
    record.correct = bool(result.get("correct"))
    record.checks_passed = sum(1 for c in checks if c.get("passed"))
    record.checks_failed = [
        CheckRecord(name=str(c.get("name", "")), detail=str(c.get("detail", ""))[:MAX_DETAIL])
        for c in checks
        if not c.get("passed")
    ][:MAX_ITEMS]
    record.time_us = _median(result.get("time_us"))
    record.baseline_us = {
        name: m
        for name, stats in (result.get("baseline_us") or {}).items()
        if (m := _median(stats)) is not None
    }
    record.speedup = {
        k: float(v) for k, v in (result.get("speedup") or {}).items() if isinstance(v, int | float)
    }
    record.verified_on = result.get("verified_on")
    device = result.get("device")
    record.device = str(device.get("name")) if isinstance(device, dict) and device.get("name") else None
    record.warnings = _str_list(result.get("warnings"))[:MAX_ITEMS]
    return record
