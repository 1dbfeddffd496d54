"""A corrupt results DB repairs itself: it is moved aside as ``results.sqlite3.corrupt-<time>``, the
rows SQLite can still read are copied by rowid (ids kept, columns present in both copied) into a fresh
DB, and the caller gets a sentence for the log and for clients. Python's ``sqlite3`` has no
``.recover``, so every id up to the highest known one is tried on its own: a bad page loses its rows,
not the rest."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kernel_skills.bench.models import BenchResult

MAX_PROBED_IDS = 1_000_000  # ids tried beyond the readable ones (a bound on a garbage sequence)


def is_corrupt(exc: BaseException) -> bool:
    """Whether a sqlite3 error says the file is damaged (not busy, locked or unwritable)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc)
    named = name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"
    return named or any(words in text for words in ("malformed", "not a database", "quick_check found"))


def check(conn: sqlite3.Connection) -> None:
    """``PRAGMA quick_check``; a ``sqlite3.DatabaseError`` naming what it found when it is not "ok"."""
    rows = [row[0] for row in conn.execute("PRAGMA quick_check(5)").fetchall()]
    if rows != ["ok"]:
        raise sqlite3.DatabaseError(f"quick_check found damage: {'; '.join(map(str, rows))[:300]}")


@contextlib.contextmanager
def repair_lock(path: Path) -> Iterator[None]:
    """One repairer at a time across processes sharing the data dir (``<db>.lock``, flock)."""
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def still_corrupt(path: Path) -> bool:
    """Whether the DB at ``path`` (re-opened now) is damaged: another process may have repaired it."""
    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(path, timeout=10)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
            check(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return is_corrupt(exc)
    return False


def move_aside(path: Path) -> Path:
    """Rename the damaged DB (and its WAL) to ``<name>.corrupt-<UTC time>``; returns the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, aside)
    with contextlib.suppress(FileNotFoundError):
        os.replace(path.with_name(path.name + "-wal"), aside.with_name(aside.name + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path.with_name(path.name + "-shm"))
    return aside


def readable_rows(aside: Path) -> tuple[list[str], list[tuple[object, ...]], int]:
    """The column names, every row that reads and parses, and the highest id seen anywhere."""
    # without a WAL of its own, read the file as it is (no -wal or -shm made beside it)
    has_wal = aside.with_name(aside.name + "-wal").exists()
    target = str(aside) if has_wal else f"file:{aside}?immutable=1"
    try:
        conn = sqlite3.connect(target, timeout=10, uri=not has_wal)
    except sqlite3.Error:
        return [], [], 0
    try:
        # a truncated file: read the pages that are there (SQLite refuses the whole file otherwise)
        _safe(lambda: conn.execute("PRAGMA writable_schema = ON"))
        info = _safe(lambda: conn.execute("PRAGMA table_info(results)").fetchall())
        columns = [str(row[1]) for row in info] if isinstance(info, list) else []
        if "id" not in columns:
            return [], [], 0
        ids = _scan_ids(conn)
        top = max([*ids, _sequence(conn), 0])
        rows = []
        for rowid in sorted(set(ids) | set(range(1, min(top, len(ids) + MAX_PROBED_IDS) + 1))):
            row = _safe(lambda r=rowid: conn.execute(
                f"SELECT {', '.join(columns)} FROM results WHERE id = ?", (r,)
            ).fetchone())  # fmt: skip
            if isinstance(row, tuple) and _parses(columns, row):
                rows.append(tuple(row))
        return columns, rows, top
    finally:
        conn.close()


def copy_rows(conn: sqlite3.Connection, columns: list[str], rows: list[tuple[object, ...]], top: int) -> int:
    """Insert ``rows`` (with their ids) into the fresh DB by the columns it shares with them; the id
    sequence continues after ``top`` so no id a client was told is handed out again."""
    fresh = [row[1] for row in conn.execute("PRAGMA table_info(results)").fetchall()]
    shared = [c for c in columns if c in fresh]
    if not rows or "id" not in shared:
        rows = []
        shared = []
    picks = [columns.index(c) for c in shared]
    placeholders = ", ".join("?" for _ in shared)
    if rows:
        conn.executemany(
            f"INSERT OR IGNORE INTO results ({', '.join(shared)}) VALUES ({placeholders})",
            [tuple(row[i] for i in picks) for row in rows],
        )
    if top:
        conn.execute("INSERT OR IGNORE INTO sqlite_sequence (name, seq) VALUES ('results', 0)")
        conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'results'", (top,))
    return len(rows)


def _scan_ids(conn: sqlite3.Connection) -> list[int]:
    ids: list[int] = []
    with contextlib.suppress(sqlite3.Error):
        for (rowid,) in conn.execute("SELECT id FROM results ORDER BY id"):
            ids.append(int(rowid))
    return ids


def _sequence(conn: sqlite3.Connection) -> int:
    row = _safe(lambda: conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone())
    return int(row[0]) if isinstance(row, tuple) and isinstance(row[0], int) else 0


def _parses(columns: list[str], row: tuple[object, ...]) -> bool:
    if "result_json" not in columns:
        return False
    try:
        BenchResult.model_validate_json(str(row[columns.index("result_json")]))
    except (ValueError, TypeError):
        return False
    return True


def _safe(read: Callable[[], object]) -> object:
    try:
        return read()
    except sqlite3.Error:
        return None


__all__ = ["check", "copy_rows", "is_corrupt", "move_aside", "readable_rows", "repair_lock", "still_corrupt"]
