"""watch_catalog: real file events (watchfiles) become CatalogChanges; errors are survived."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream

from kernel_skills.catalog import Catalog, SkillRoot, watch_catalog
from kernel_skills.catalog.models import CatalogChange

from .helpers import skill_md, write_skill

pytestmark = pytest.mark.anyio


class _FlakyCatalog(Catalog):
    """A real catalog whose first reload fails (to check that the watcher survives it)."""

    failures = 1

    def reload(self, changed_paths: set[Path] | None = None) -> CatalogChange:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("reload failed on purpose")
        return super().reload(changed_paths)


@asynccontextmanager
async def _watching(
    catalog: Catalog, fail_first_handler: bool = False, poll_ms: int = 1000
) -> AsyncIterator[MemoryObjectReceiveStream]:
    send, receive = anyio.create_memory_object_stream[CatalogChange](100)
    stop = anyio.Event()
    calls = itertools.count()

    async def on_change(change: CatalogChange) -> None:
        if fail_first_handler and next(calls) == 0:
            raise RuntimeError("handler failed on purpose")
        await send.send(change)

    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: watch_catalog(catalog, on_change, debounce_ms=20, stop_event=stop, poll_ms=poll_ms)
        )
        await anyio.wait_all_tasks_blocked()
        try:
            yield receive
        finally:
            stop.set()
    send.close()
    receive.close()


async def _until(
    receive: MemoryObjectReceiveStream, wanted: Callable[[CatalogChange], bool]
) -> CatalogChange:
    while True:
        change = await receive.receive()
        if wanted(change):
            return change


async def _prime(root: Path, receive: MemoryObjectReceiveStream) -> None:
    """The watcher has no 'ready' signal: rewrite a probe skill until a change for it arrives."""
    for version in itertools.count():
        write_skill(root, "probe", skill_md("probe", f"Probe version {version}."))
        with anyio.move_on_after(0.3):
            await _until(receive, lambda c: "probe" in c.added + c.changed)
            return


async def test_create_edit_and_delete_are_delivered(root: Path) -> None:
    catalog = Catalog([SkillRoot(path=root)])
    with anyio.fail_after(20):
        async with _watching(catalog) as receive:
            await _prime(root, receive)
            folder = write_skill(root, "alpha", files={"references/guide.md": "v1\n"})
            added = await _until(receive, lambda c: bool(c.added))
            assert added.added == ["alpha"]

            (folder / "references" / "guide.md").write_text("v2\n")
            edited = await _until(receive, lambda c: bool(c.changed))
            assert edited.files == [("alpha", "references/guide.md")]
            assert catalog.read_file("alpha", "references/guide.md").text == "v2\n"

            shutil.rmtree(folder)
            removed = await _until(receive, lambda c: bool(c.removed))
            assert removed.removed == ["alpha"]
            assert "alpha" not in {s.name for s in catalog.skills()}


async def test_a_failing_handler_or_reload_does_not_stop_the_watch(root: Path) -> None:
    catalog = _FlakyCatalog([SkillRoot(path=root)])
    with anyio.fail_after(20):
        async with _watching(catalog, fail_first_handler=True) as receive:
            await _prime(root, receive)  # absorbs the failed reload and the failed handler call
            write_skill(root, "alpha")
            change = await _until(receive, lambda c: bool(c.added))
            assert change.added == ["alpha"]
    assert catalog.failures == 0


async def test_stop_event_ends_the_watch(root: Path) -> None:
    catalog = Catalog([SkillRoot(path=root)])
    stop = anyio.Event()

    async def on_change(change: CatalogChange) -> None:
        del change

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: watch_catalog(catalog, on_change, stop_event=stop))
            await anyio.wait_all_tasks_blocked()
            stop.set()


async def test_a_root_created_after_the_watch_started_is_picked_up(tmp_path: Path) -> None:
    root = tmp_path / "later"  # e.g. ~/.claude/skills, made after the server started
    catalog = Catalog([SkillRoot(path=root)])
    with anyio.fail_after(20):
        async with _watching(catalog, poll_ms=50) as receive:
            write_skill(root, "alpha")
            change = await _until(receive, lambda c: "alpha" in c.added)
            assert [s.name for s in catalog.skills()] == ["alpha"]
            write_skill(root, "beta")  # ... and the new root is now watched for ordinary edits too
            await _until(receive, lambda c: "beta" in c.added)
    assert change.added == ["alpha"]


async def test_a_deleted_root_is_dropped_and_its_skills_removed(tmp_path: Path) -> None:
    kept, doomed = tmp_path / "kept", tmp_path / "doomed"
    write_skill(kept, "keeper")
    write_skill(doomed, "goner")
    catalog = Catalog([SkillRoot(path=kept), SkillRoot(path=doomed)])
    with anyio.fail_after(20):
        async with _watching(catalog, poll_ms=50) as receive:
            shutil.rmtree(doomed)
            await _until(receive, lambda c: "goner" in c.removed)
            write_skill(kept, "newcomer")  # the remaining root is still watched
            await _until(receive, lambda c: "newcomer" in c.added)
    assert [s.name for s in catalog.skills()] == ["keeper", "newcomer"]


async def test_stop_event_ends_a_watch_that_has_no_root_yet(tmp_path: Path) -> None:
    catalog = Catalog([SkillRoot(path=tmp_path / "missing")])
    stop = anyio.Event()

    async def on_change(change: CatalogChange) -> None:
        del change

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: watch_catalog(catalog, on_change, stop_event=stop))
            await anyio.wait_all_tasks_blocked()
            stop.set()


async def test_edits_inside_a_symlinked_skill_folder_are_delivered(tmp_path: Path, root: Path) -> None:
    real = write_skill(tmp_path / "repo", "linked", files={"references/a.md": "v1\n"})
    os.symlink(real, root / "linked")
    catalog = Catalog([SkillRoot(path=root)])
    with anyio.fail_after(20):
        async with _watching(catalog) as receive:
            await _prime(root, receive)
            (real / "references" / "a.md").write_text("v2\n")
            change = await _until(receive, lambda c: "linked" in c.changed)
            assert change.files == [("linked", "references/a.md")]
