"""Folders an eval makes for its output, and removes again when it measured nothing."""

from __future__ import annotations

import shutil
from pathlib import Path


def make_dirs(path: Path) -> list[Path]:
    """``mkdir -p path``; returns the folders it made, deepest first (for ``remove_made``)."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    return missing


def remove_made(made: list[Path]) -> None:
    """Remove what ``make_dirs`` made: the deepest with its content, its parents only while empty."""
    if not made:
        return
    shutil.rmtree(made[0], ignore_errors=True)
    for parent in made[1:]:
        try:
            parent.rmdir()
        except OSError:  # something else lives there now: keep it
            return
