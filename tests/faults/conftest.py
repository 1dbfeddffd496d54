"""Faults made for real: a small tmpfs filled to the last byte (root mounts one; ``RLIMIT_FSIZE``
would give EFBIG, not ENOSPC, so it is no stand-in), an immutable folder (``chattr +i``), real child
processes stopped and killed from outside. Where the machine cannot make a fault, the test is skipped
with the reason."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kernel_skills import confine, tempdirs

_EMULATOR_REASON = (
    "the CPU emulator builds its engine with g++ (apt-get install g++)"
    if shutil.which("g++") is None
    else None
    if confine.landlock_available()
    else "the CPU emulator runs its engine only under Linux Landlock, which this kernel lacks"
)
needs_emulator = pytest.mark.skipif(_EMULATOR_REASON is not None, reason=_EMULATOR_REASON or "")


@dataclass
class FullDisk:
    """A 1 MiB tmpfs at ``path``; ``fill()`` takes every free block, ``free()`` gives them back."""

    path: Path

    @property
    def ballast(self) -> Path:
        return self.path / ".ballast"

    def fill(self) -> None:
        with open(self.ballast, "ab", buffering=0) as handle:
            while True:
                try:
                    handle.write(b"\0" * 4096)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
        for i in range(10_000):  # and every inode a tiny file could still get
            try:
                (self.path / f".inode-{i}").touch()
            except OSError:
                break

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)
        for extra in self.path.glob(".inode-*"):
            extra.unlink()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[FullDisk]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=4096", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield FullDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i path`` for the block (nothing can be created, renamed or removed in it)."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {done.stderr.strip() or 'chattr failed'}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def descendants(root: int | None = None) -> dict[int, str]:
    """Every live descendant of ``root`` (default: this process): pid -> command line."""
    parent_of: dict[int, int] = {}
    command: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if stat[stat.rindex(")") + 2] == "Z":
                continue
            parent_of[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            command[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    found: dict[int, str] = {}
    frontier = [root or os.getpid()]
    while frontier:
        pid = frontier.pop()
        for child, parent in parent_of.items():
            if parent == pid and child not in found:
                found[child] = command.get(child, "")
                frontier.append(child)
    return found


def my_temp_dirs(*, live_workers: bool = False) -> list[Path]:
    """This process's own temp folders (``kernel-skills-<kind>-<this pid>-...``); those that live as
    long as a worker or the process (a compile worker's private folder, a privately built engine)
    only with ``live_workers``."""
    lasting = ("kernel-skills-nvrtc-", "kernel-skills-engine-")
    return [
        p
        for p in tempdirs.ours()
        if tempdirs.owner(p) == os.getpid() and (live_workers or not p.name.startswith(lasting))
    ]
