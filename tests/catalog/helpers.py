"""Write real skill folders and `.skill` packages for the catalog tests."""

from __future__ import annotations

import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def skill_md(
    name: str,
    description: str = "Does a thing. Use it when a thing is needed.",
    extra: str = "",
    body: str = "# Title\n\nBody.\n",
) -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}"


def write_skill(
    root: Path, name: str, text: str | None = None, files: dict[str, bytes | str] | None = None
) -> Path:
    """Write ``root/name/SKILL.md`` (a valid one unless ``text`` is given) plus extra files."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(skill_md(name) if text is None else text, encoding="utf-8")
    for rel, content in (files or {}).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


def write_package(
    path: Path, members: dict[str, bytes | str], symlinks: dict[str, str] | None = None
) -> Path:
    """Write a `.skill` zip with the given member names (not validated: tests make bad ones too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return path


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block with TimeoutError after ``seconds`` (SIGALRM; main thread, Unix).

    A regression that expands an alias bomb would otherwise hang the test run or eat the memory.
    """

    def expire(signum: int, frame: object) -> None:
        del signum, frame
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
