"""The server's temporary folders: named ``kernel-skills-<kind>-<pid>-<random>`` in the system temp
folder, so a sweep at start-up can remove those whose owning process is gone. Never by age: an old
folder may belong to a live server that is still using it."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from kernel_skills import procs

KINDS = ("nvrtc", "cubin", "emu", "engine")
_NAME = re.compile(r"kernel-skills-(?:" + "|".join(KINDS) + r")-(\d+)-")
_LOG = logging.getLogger(__name__)


def prefix(kind: str) -> str:
    """The name prefix of this process's temporary folders of ``kind`` (one of ``KINDS``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown temp folder kind {kind!r}; expected one of {KINDS}")
    return f"kernel-skills-{kind}-{os.getpid()}-"


def private_dir(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A fresh temporary folder of ``kind``, removed when the context exits (on every path)."""
    return tempfile.TemporaryDirectory(prefix=prefix(kind), ignore_cleanup_errors=True)


def owner(path: Path) -> int | None:
    """The pid in a temp folder's name; None for a folder that is not one of ours."""
    match = _NAME.match(path.name)
    return int(match.group(1)) if match else None


def ours(root: Path | None = None) -> list[Path]:
    """Every temp folder of ours under ``root`` (default: the system temp folder), live or not."""
    base = Path(root or tempfile.gettempdir())
    try:
        return sorted(p for p in base.iterdir() if owner(p) is not None)
    except OSError:
        return []


def sweep(root: Path | None = None) -> list[Path]:
    """Remove our temp folders whose owning process is gone; returns what was removed."""
    removed = []
    for path in ours(root):
        pid = owner(path)
        if pid is None or pid == os.getpid() or procs.alive(pid):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    if removed:
        _LOG.info("removed %d stale temp folder(s) of exited servers: %s", len(removed), removed[:5])
    return removed


__all__ = ["KINDS", "ours", "owner", "prefix", "private_dir", "sweep"]
