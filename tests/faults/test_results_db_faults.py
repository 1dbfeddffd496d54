"""The results DB under real faults: an immutable data dir, a full disk, garbage, a damaged page, a
truncated file, two processes at once. A verdict is always returned; one that could not be stored
says so, is held in memory, and is listed once the DB can be written again. A corrupt DB is moved
aside and its readable rows kept, with their ids."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_skills.bench import results_db, results_journal
from kernel_skills.bench.models import BenchResult, Check, DeviceInfo, KernelInfo, Provenance
from kernel_skills.bench.results_journal import Journal
from kernel_skills.errors import ServerFault

from .conftest import FullDisk, immutable


def verdict(n: int, problem: str = "rmsnorm") -> BenchResult:
    return BenchResult(
        ok=False,
        correct=True,
        problem=problem,
        verified_on="cpu-emulator",
        checks=[Check(name=f"correct on shape {n}", passed=True, detail="3 fresh seeds " + "x" * 400)],
        kernel=KernelInfo(name=f"k{n}"),
        device=DeviceInfo(name="CPU emulator"),
        provenance=Provenance(kernel_skills="0", source_sha256=f"{n:064x}", date="2026-12-07T00:00:00+00:00"),
    )


@pytest.fixture(autouse=True)
def _fresh_process_state() -> None:
    """Each test is a fresh server as far as the DB is concerned: nothing held, nothing checked."""
    results_journal._JOURNALS.clear()
    results_db._CHECKED.clear()


def kernels_listed(db: Path) -> set[str | None]:
    return {r.kernel for r in results_db.list_results("rmsnorm", limit=200, path=db).results}


def test_an_immutable_data_dir_returns_the_verdict_and_stores_it_once_writable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "results.sqlite3"
    first = results_db.keep_result(verdict(1), path=db)
    assert first.result_id is not None and first.warnings == []
    with immutable(data):
        told = [results_db.keep_result(verdict(n), path=db) for n in (2, 3)]
        for result in told:
            assert result.result_id is None and result.correct
            [warning] = result.warnings
            assert "not stored" in warning and str(db) in warning and "held in memory" in warning
            assert "restart loses" in warning and "EPERM (Operation not permitted)" in warning
        with pytest.raises(ServerFault, match=r"results DB .* cannot be read .*2 verdict\(s\) are held"):
            results_db.list_results("rmsnorm", path=db)
    listing = results_db.list_results("rmsnorm", limit=200, path=db)
    assert {r.kernel for r in listing.results} == {"k1", "k2", "k3"}
    assert any("2 verdict(s) held in memory" in w and "now stored" in w for w in listing.warnings)
    assert len(results_journal.journal_for(db)) == 0
    # what was stored is the verdict, not the warning about storing it
    stored = results_db.get_result(max(r.id for r in listing.results), path=db)
    assert stored is not None and stored.warnings == []


def test_a_full_disk_holds_verdicts_until_space_returns(full_disk: FullDisk) -> None:
    db = full_disk.path / "results.sqlite3"
    results_db.keep_result(verdict(1), path=db)
    full_disk.fill()
    told = [results_db.keep_result(verdict(n), path=db) for n in range(2, 40)]  # enough to need new pages
    unstored = [r for r in told if r.result_id is None]
    assert unstored, "the full disk took every verdict"
    assert all("ENOSPC (No space left on device)" in r.warnings[0] for r in unstored)
    full_disk.free()
    assert kernels_listed(db) == {f"k{n}" for n in range(1, 40)}


def test_garbage_in_the_db_is_moved_aside_and_a_fresh_db_serves(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    results_db.keep_result(verdict(1), path=db)
    results_db._CHECKED.clear()  # a restarted server
    db.write_bytes(b"this is not a database, it is garbage " * 200)
    result = results_db.keep_result(verdict(2), path=db)
    assert result.result_id is not None
    assert any("was corrupt" in w and ".corrupt-" in w for w in result.warnings)
    [aside] = [p for p in tmp_path.glob("results.sqlite3.corrupt-*") if not p.name.endswith("-wal")]
    assert aside.read_bytes().startswith(b"this is not a database")
    assert kernels_listed(db) == {"k2"}


def _damage_page(db: Path, page: int) -> None:
    size = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as handle:
        handle.seek(size * (page - 1))
        handle.write(b"\xa5" * size)


def _filled(db: Path, count: int, *, restart: bool = True) -> dict[int, str]:
    ids = {results_db.keep_result(verdict(n), path=db).result_id: f"k{n}" for n in range(count)}
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    if restart:
        results_db._CHECKED.clear()  # a restarted server finds the damage at its first open
    return {int(i): k for i, k in ids.items() if i is not None}


@pytest.mark.parametrize("found", ["at open", "mid-run (SQLITE_CORRUPT)"])
def test_a_damaged_page_is_repaired_and_the_other_rows_are_kept_with_their_ids(
    tmp_path: Path, found: str
) -> None:
    db = tmp_path / "results.sqlite3"
    before = _filled(db, 120, restart=found == "at open")
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    _damage_page(db, pages // 2)
    listing = results_db.list_results("rmsnorm", limit=200, path=db)
    assert any("was corrupt" in w and "copied into a fresh DB" in w for w in listing.warnings)
    kept = {r.id: r.kernel for r in listing.results}
    assert 0 < len(kept) < len(before)
    assert all(before[i] == k for i, k in kept.items())  # same id, same verdict
    new = results_db.keep_result(verdict(999), path=db)
    assert new.result_id is not None and new.result_id > max(before)  # no told id handed out again
    assert len([p for p in tmp_path.glob("results.sqlite3.corrupt-*") if not p.name.endswith("-wal")]) == 1


def test_a_truncated_db_keeps_what_is_left(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    before = _filled(db, 120)
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size // 2)
    result = results_db.keep_result(verdict(500), path=db)
    assert result.result_id is not None and result.result_id > max(before)
    assert any("was corrupt" in w for w in result.warnings)
    kept = {r.id: r.kernel for r in results_db.list_results("rmsnorm", limit=200, path=db).results}
    assert 0 < len(kept) - 1 < len(before)
    assert all(before[i] == k for i, k in kept.items() if i != result.result_id)


def test_rows_are_copied_by_the_columns_both_schemas_have(tmp_path: Path) -> None:
    """An old DB with an extra column (a newer release's) still gives up its rows."""
    db = tmp_path / "results.sqlite3"
    results_db.keep_result(verdict(1), path=db)
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE results ADD COLUMN a_later_field REAL")
    _filled(db, 60)
    _damage_page(db, sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0] - 1)
    listing = results_db.list_results("rmsnorm", limit=200, path=db)
    assert any("was corrupt" in w for w in listing.warnings)
    assert listing.results


def test_the_journal_is_bounded_and_drops_the_oldest() -> None:
    journal = Journal(limit=3)
    for n in range(5):
        journal.hold(verdict(n))
    assert [r.kernel.name for r in journal.snapshot() if r.kernel] == ["k2", "k3", "k4"]
    assert journal.dropped == 2


WRITER = """
import sys
from pathlib import Path
from kernel_skills.bench import results_db
from kernel_skills.bench.models import BenchResult
db, template = Path(sys.argv[1]), BenchResult.model_validate_json(sys.stdin.read())
ids = []
for n in range(40):
    template.kernel.name = f"{sys.argv[2]}-{n}"
    ids.append(results_db.store(template, path=db))
print(len(set(ids)))
"""


def test_two_servers_write_one_data_dir_at_once(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), name],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    template = verdict(0).model_dump_json().encode()
    outputs = [p.communicate(template, timeout=120)[0].decode().strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outputs == ["40", "40"]
    assert len(kernels_listed(db)) == 80
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
