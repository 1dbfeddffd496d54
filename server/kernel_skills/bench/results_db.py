"""Benchmark results in a local SQLite database (``data_dir()/results.sqlite3``, stdlib sqlite3)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path

from kernel_skills import paths
from kernel_skills.bench.models import BenchResult, ResultList, ResultSummary

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem TEXT NOT NULL,
    created TEXT NOT NULL,
    ok INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    kernel TEXT,
    source_sha256 TEXT,
    time_us_median REAL,
    speedup_torch_eager REAL,
    device TEXT,
    result_json TEXT NOT NULL,
    estimate_us REAL,
    estimate_error REAL
);
CREATE INDEX IF NOT EXISTS results_problem ON results (problem, correct, time_us_median);
"""
DEFAULT_LIMIT = 20
# columns added after the first schema: (name, type), added to an older DB when it is opened
_ADDED_COLUMNS = (("estimate_us", "REAL"), ("estimate_error", "REAL"))


def db_path() -> Path:
    return paths.data_dir() / "results.sqlite3"


@contextlib.contextmanager
def _connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.executescript(_SCHEMA)
        _add_columns(conn)
        with conn:
            yield conn
    finally:
        conn.close()


def _add_columns(conn: sqlite3.Connection) -> None:
    present = {row[1] for row in conn.execute("PRAGMA table_info(results)")}
    for name, kind in _ADDED_COLUMNS:
        if name not in present:
            conn.execute(f"ALTER TABLE results ADD COLUMN {name} {kind}")


def _summary(result: BenchResult) -> str:
    if not result.correct:
        failed = [c.name for c in result.checks if not c.passed]
        return "incorrect: " + ", ".join(failed[:3]) if failed else "incorrect"
    if result.verified_on == "cpu-emulator":
        text = "correct on the CPU emulator (not timed: timing needs a GPU)"
        if result.estimate is not None:
            e = result.estimate
            text += f"; H100 estimate {e.time_us:.1f} us, {e.bound}-bound (a model, not a measurement)"
        return text
    if result.time_us is None:
        return "correct, not timed"
    text = f"correct, {result.time_us.median:.2f} us"
    if "torch_eager" in result.speedup:
        text += f", {result.speedup['torch_eager']:.2f}x vs torch eager"
    if result.roofline is not None and result.roofline.fraction_of_peak is not None:
        text += f", {100 * result.roofline.fraction_of_peak:.0f}% of the roofline"
    if result.estimate is not None and result.estimate.error is not None:
        e = result.estimate
        text += f"; the emulator's estimate was {e.time_us:.2f} us ({e.error:+.0%})"
    return text if result.ok else text + " (rejected: " + "; ".join(result.warnings[:1] or ["not ok"]) + ")"


def store(result: BenchResult, *, path: Path | None = None) -> int:
    with _connect(path) as conn:
        cursor = conn.execute(
            "INSERT INTO results (problem, created, ok, correct, kernel, source_sha256, time_us_median, "
            "speedup_torch_eager, device, result_json, estimate_us, estimate_error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.problem,
                result.provenance.date,
                int(result.ok),
                int(result.correct),
                result.kernel.name if result.kernel else None,
                result.provenance.source_sha256,
                result.time_us.median if result.time_us else None,
                result.speedup.get("torch_eager"),
                result.device.name if result.device else None,
                result.model_dump_json(),
                result.estimate.time_us if result.estimate else None,
                result.estimate.error if result.estimate else None,
            ),
        )
        return int(cursor.lastrowid or 0)


def list_results(problem: str, *, limit: int = DEFAULT_LIMIT, path: Path | None = None) -> ResultList:
    """Best first: accepted (ok) and correct before the rest, then the fastest, then the newest."""
    limit = max(1, min(int(limit), 200))
    with _connect(path) as conn:
        rows = conn.execute(
            "SELECT id, problem, created, ok, correct, kernel, source_sha256, time_us_median, "
            "speedup_torch_eager, device, result_json, estimate_us, estimate_error FROM results "
            "WHERE problem = ? "
            "ORDER BY ok DESC, correct DESC, time_us_median IS NULL, time_us_median ASC, id DESC LIMIT ?",
            (problem, limit),
        ).fetchall()
    results = []
    for row in rows:
        full = BenchResult.model_validate_json(row[10])
        results.append(
            ResultSummary(
                id=row[0],
                problem=row[1],
                created=row[2],
                ok=bool(row[3]),
                correct=bool(row[4]),
                kernel=row[5],
                source_sha256=row[6],
                time_us_median=row[7],
                speedup_torch_eager=row[8],
                device=row[9],
                verified_on=full.verified_on,
                estimate_us=row[11],
                estimate_error=row[12],
                summary=_summary(full),
            )
        )
    return ResultList(problem=problem, results=results)


def recent_ids(
    limit: int = 100, *, problems: Collection[str] | None = None, path: Path | None = None
) -> list[int]:
    """The ids of the newest stored results, newest first (what a client may complete an id from);
    with ``problems``, only results for those problems (the ones a server serves)."""
    where, args = "", []
    if problems is not None:
        names = sorted(problems)
        if not names:
            return []
        where = f"WHERE problem IN ({', '.join('?' * len(names))}) "
        args = names
    with _connect(path) as conn:
        rows = conn.execute(
            f"SELECT id FROM results {where}ORDER BY id DESC LIMIT ?", (*args, max(1, int(limit)))
        ).fetchall()
    return [int(row[0]) for row in rows]


def estimate_pairs(*, limit: int = 1000, path: Path | None = None) -> list[tuple[float, float]]:
    """(the estimate's throughput_us, the measured median) of the newest GPU results that carry an
    emulator estimate of the same kernel: what ``calibrate --estimate`` refits the model to."""
    with _connect(path) as conn:
        rows = conn.execute(
            "SELECT result_json FROM results WHERE estimate_error IS NOT NULL AND time_us_median IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (max(1, int(limit)),),
        ).fetchall()
    pairs = []
    for (text,) in rows:
        found = BenchResult.model_validate_json(text).estimate
        if found is not None and found.measured_us is not None:
            pairs.append((found.throughput_us, found.measured_us))
    return pairs


def get_result(result_id: int, *, path: Path | None = None) -> BenchResult | None:
    with _connect(path) as conn:
        row = conn.execute("SELECT result_json FROM results WHERE id = ?", (int(result_id),)).fetchone()
    return BenchResult.model_validate_json(row[0]) if row else None


__all__ = ["db_path", "estimate_pairs", "get_result", "list_results", "recent_ids", "store"]
