"""Benchmark results in a local SQLite database (``data_dir()/results.sqlite3``, stdlib sqlite3).

WAL mode and a busy timeout: several servers may share one data dir. A verdict is never lost to the
DB: ``keep_result`` stores it, or, when the DB cannot be written, holds it in memory (``results_journal``)
and says so in the result's ``warnings``; what is held is stored by the next call that can write.
A corrupt DB (found by a quick_check at a process's first use, or by SQLITE_CORRUPT/NOTADB on any
call) is moved aside and its readable rows copied into a fresh one (``results_repair``)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TypeVar

from kernel_skills import paths
from kernel_skills.bench import results_repair as repair
from kernel_skills.bench.models import BenchResult, ResultList, ResultSummary
from kernel_skills.bench.results_journal import journal_for
from kernel_skills.errors import ServerFault, errno_text

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
BUSY_TIMEOUT_S = 10.0
# columns added after the first schema: (name, type), added to an older DB when it is opened
_ADDED_COLUMNS = (("estimate_us", "REAL"), ("estimate_error", "REAL"))
_LOG = logging.getLogger(__name__)  # forwarded to MCP clients as log messages while serving
_CHECKED: set[Path] = set()  # DBs this process has quick_checked
_CHECK_LOCK = threading.Lock()
_T = TypeVar("_T")


def db_path() -> Path:
    return paths.data_dir() / "results.sqlite3"


@contextlib.contextmanager
def _connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        with contextlib.suppress(sqlite3.OperationalError):  # a read-only dir keeps the current mode
            conn.execute("PRAGMA journal_mode = WAL")
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


def _insert(conn: sqlite3.Connection, result: BenchResult) -> int:
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


def _session(path: Path | None, work: Callable[[sqlite3.Connection], _T]) -> tuple[_T, list[str]]:
    """``work`` on the DB after flushing what is held; a corrupt DB is repaired and ``work`` retried
    once. Returns its value and the warnings for the client (a repair, a flush)."""
    path = path or db_path()
    warnings: list[str] = []
    for attempt in range(2):
        try:
            _check_once(path)
            warnings += _flush(path)
            with _connect(path) as conn:
                return work(conn), warnings
        except sqlite3.DatabaseError as exc:
            if attempt or not repair.is_corrupt(exc):
                raise
            warnings.append(_repair(path, exc))
    raise AssertionError("unreachable")


def _check_once(path: Path) -> None:
    key = path.resolve()
    with _CHECK_LOCK:
        if key in _CHECKED:
            return
    with _connect(path) as conn:
        repair.check(conn)
    with _CHECK_LOCK:
        _CHECKED.add(key)


def _repair(path: Path, exc: sqlite3.DatabaseError) -> str:
    with repair.repair_lock(path):
        if not repair.still_corrupt(path):
            return f"the results DB {path} reported damage ({exc}); another server had repaired it already"
        aside = repair.move_aside(path)
        columns, rows, top = repair.readable_rows(aside)
        with _connect(path) as conn:
            copied = repair.copy_rows(conn, columns, rows, top)
    with _CHECK_LOCK:
        _CHECKED.add(path.resolve())
    text = (
        f"the results DB {path} was corrupt ({exc}); it was moved aside to {aside.name} and {copied} "
        "readable result(s) were copied into a fresh DB with their ids (rows on damaged pages are lost)"
    )
    _LOG.error(text)
    return text


def _flush(path: Path) -> list[str]:
    """Store what the journal holds (oldest first). A DB that still refuses keeps it held."""
    journal = journal_for(path)
    with journal.lock:
        held = journal.snapshot()
        if not held:
            return []
        try:
            with _connect(path) as conn:
                ids = [_insert(conn, result) for result in held]
        except sqlite3.DatabaseError as exc:
            if repair.is_corrupt(exc):
                raise
            return []
        except OSError:
            return []
        journal.release(len(held))
    text = (
        f"{len(held)} verdict(s) held in memory while the results DB could not be written are now stored "
        f"(ids {ids[0]}..{ids[-1]}; they had result_id null when they were returned)"
    )
    _LOG.warning(text)
    return [text]


def _why(exc: BaseException, path: Path) -> str:
    if isinstance(exc, OSError):
        return errno_text(exc)
    name = getattr(exc, "sqlite_errorname", None)
    text = f"{name}: {exc}" if name else f"{type(exc).__name__}: {exc}"
    return text + _folder_fault(path.parent)


def _folder_fault(folder: Path) -> str:
    """What the file system says about the DB's folder (SQLite's codes do not carry the errno)."""
    try:
        stats = os.statvfs(folder)
        if stats.f_bavail == 0 or stats.f_favail == 0:
            return f"; {folder}: ENOSPC ({os.strerror(errno.ENOSPC)})"
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"; {folder}: {errno_text(exc)}"
    return ""


def store(result: BenchResult, *, path: Path | None = None) -> int:
    """Store a verdict and return its id; raises when the DB cannot take it (see ``keep_result``)."""
    result_id, _ = _session(path, lambda conn: _insert(conn, result))
    return result_id


def keep_result(result: BenchResult, *, path: Path | None = None) -> BenchResult:
    """Store a verdict, never failing: sets ``result.result_id`` (None when it could not be stored,
    then it is held in memory) and adds a ``warnings`` entry for whatever the client should know."""
    path = path or db_path()
    stored = result.model_copy(deep=True)
    try:
        result_id, warnings = _session(path, lambda conn: _insert(conn, stored))
    except (sqlite3.Error, OSError) as exc:
        held = journal_for(path).hold(stored)
        text = (
            f"this verdict was not stored: the results DB {path} cannot be written ({_why(exc, path)}). "
            f"It is held in memory ({held} held) and stored when the DB can be written again, then "
            "list_results shows it; a server restart loses what is held"
        )
        _LOG.warning(text)
        result_id, warnings = None, [text]
    result.result_id = result_id
    result.warnings.extend(warnings)
    return result


def _unreadable(path: Path, exc: BaseException) -> ServerFault:
    held = len(journal_for(path))
    return ServerFault(
        f"the results DB {path} cannot be read ({_why(exc, path)}); {held} verdict(s) are held in memory "
        "until it can be written; nothing was lost, retry later"
    )


def list_results(problem: str, *, limit: int = DEFAULT_LIMIT, path: Path | None = None) -> ResultList:
    """Best first: accepted (ok) and correct before the rest, then the fastest, then the newest."""
    limit = max(1, min(int(limit), 200))
    path = path or db_path()
    query = (
        "SELECT id, problem, created, ok, correct, kernel, source_sha256, time_us_median, "
        "speedup_torch_eager, device, result_json, estimate_us, estimate_error FROM results "
        "WHERE problem = ? "
        "ORDER BY ok DESC, correct DESC, time_us_median IS NULL, time_us_median ASC, id DESC LIMIT ?"
    )
    try:
        rows, warnings = _session(path, lambda conn: conn.execute(query, (problem, limit)).fetchall())
    except (sqlite3.Error, OSError) as exc:
        raise _unreadable(path, exc) from exc
    if held := len(journal_for(path)):
        warnings.append(
            f"{held} verdict(s) are held in memory: the results DB cannot be written yet; they are "
            "listed once it can"
        )
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
    return ResultList(problem=problem, results=results, warnings=warnings)


def recent_result_ids(
    limit: int = 100, *, problems: Collection[str] | None = None, path: Path | None = None
) -> list[int]:
    """The ids of the newest stored results, newest first (what a client may complete an id from);
    with ``problems``, only results for those problems (the ones a server serves); none while the DB
    cannot be read."""
    where, args = "", []
    if problems is not None:
        names = sorted(problems)
        if not names:
            return []
        where = f"WHERE problem IN ({', '.join('?' * len(names))}) "
        args = names
    query = f"SELECT id FROM results {where}ORDER BY id DESC LIMIT ?"
    try:
        rows, _ = _session(path, lambda conn: conn.execute(query, (*args, max(1, int(limit)))).fetchall())
    except (sqlite3.Error, OSError):
        return []
    return [int(row[0]) for row in rows]


def estimate_pairs(*, limit: int = 1000, path: Path | None = None) -> list[tuple[float, float]]:
    """(the estimate's throughput_us, the measured median) of the newest GPU results that carry an
    emulator estimate of the same kernel: what ``calibrate --estimate`` refits the model to."""
    query = (
        "SELECT result_json FROM results WHERE estimate_error IS NOT NULL AND time_us_median IS NOT NULL "
        "ORDER BY id DESC LIMIT ?"
    )
    try:
        rows, _ = _session(path, lambda conn: conn.execute(query, (max(1, int(limit)),)).fetchall())
    except (sqlite3.Error, OSError) as exc:
        raise _unreadable(path or db_path(), exc) from exc
    pairs = []
    for (text,) in rows:
        found = BenchResult.model_validate_json(text).estimate
        if found is not None and found.measured_us is not None:
            pairs.append((found.throughput_us, found.measured_us))
    return pairs


def get_result(result_id: int, *, path: Path | None = None) -> BenchResult | None:
    path = path or db_path()
    query = "SELECT result_json FROM results WHERE id = ?"
    try:
        row, _ = _session(path, lambda conn: conn.execute(query, (int(result_id),)).fetchone())
    except (sqlite3.Error, OSError) as exc:
        raise _unreadable(path, exc) from exc
    return BenchResult.model_validate_json(row[0]) if row else None


__all__ = [
    "db_path",
    "estimate_pairs",
    "get_result",
    "keep_result",
    "list_results",
    "recent_result_ids",
    "store",
]
