"""Path containment: a requested file path must name a file inside the skill folder.

Two layers: the request string is checked first (no `..`, no absolute paths, no backslashes, no
NUL, no percent-encoding), then the real path (symlinks resolved) must stay inside the folder's
real path. Either failure is RefusedInput with a message that says what is accepted.
"""

from __future__ import annotations

import re
from pathlib import Path

from kernel_skills.errors import RefusedInput

_ACCEPTED = "give a relative POSIX path inside the skill folder, such as `references/guide.md`"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_DRIVE = re.compile(r"^[A-Za-z]:")


def check_relative_path(path: str) -> tuple[str, ...]:
    """Validate a requested path string; return its segments. Raises RefusedInput."""
    if not isinstance(path, str) or not path:
        raise RefusedInput(f"empty file path; {_ACCEPTED}")
    if "\x00" in path:
        raise RefusedInput(f"file path contains a NUL character; {_ACCEPTED}")
    if "\\" in path:
        raise RefusedInput(f"file path {path!r} contains a backslash; use '/' separators; {_ACCEPTED}")
    if _PERCENT.search(path):
        raise RefusedInput(
            f"file path {path!r} contains percent-encoding (such as %2e or %2f); "
            f"send the decoded path; {_ACCEPTED}"
        )
    if path.startswith("/") or _DRIVE.match(path):
        raise RefusedInput(f"file path {path!r} is absolute; {_ACCEPTED}")
    segments = tuple(path.split("/"))
    for segment in segments:
        if segment == "..":
            raise RefusedInput(f"file path {path!r} leaves the skill folder ('..'); {_ACCEPTED}")
        if segment in ("", "."):
            raise RefusedInput(f"file path {path!r} has an empty or '.' segment; {_ACCEPTED}")
    return segments


def resolve_inside(folder: Path, rel: str) -> Path:
    """Return the real path of ``folder/rel``, refusing anything that resolves outside ``folder``."""
    segments = check_relative_path(rel)
    real_folder = folder.resolve()
    target = real_folder.joinpath(*segments)
    try:
        real = target.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops
        # The OS message names the absolute server path: only its kind is told to the client.
        raise RefusedInput(
            f"file path {rel!r} cannot be resolved ({type(exc).__name__}, a symlink loop?); {_ACCEPTED}"
        ) from exc
    if real != real_folder and real_folder not in real.parents:
        raise RefusedInput(f"file path {rel!r} resolves outside the skill folder (a symlink?); {_ACCEPTED}")
    return real


def is_inside(folder_real: Path, path: Path) -> bool:
    return path == folder_real or folder_real in path.parents
