"""The header folders a compile may read, and how their paths are shown to a client.

The include path is: the standard-header shims shipped with this package (``include/``: ``<cmath>``,
``<cstdint>``, ``<assert.h>``, ... forwarding to CUDA's device math and ``cuda/std``, since NVRTC
has no standard library; and a ``<cub/cub.cuh>`` that NVRTC accepts), then the CUDA runtime headers,
then CCCL. The shim folder is one more read-only folder of the include sandbox: it holds nothing but
the shims.

Paths of these folders never reach a client: ``toolkit_relative`` turns an absolute header path into
the name it is included by (``cooperative_groups/details/info.h``), and ``client_ptx`` rewrites the
``.file`` directives of PTX compiled with line info the same way (the emulator maps ``.loc`` lines
with the same function).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

SHIM_LABEL = "<kernel-skills-include>"
_FILE_DIRECTIVE = re.compile(r'^(?P<head>\s*\.file\s+\d+\s+")(?P<path>[^"\n]*)(?P<tail>".*)$', re.MULTILINE)
# A string constant (``__FILE__`` of a toolkit header, e.g. in a CCCL assertion's message).
_BYTES_CONSTANT = re.compile(
    r"^(?P<head>[ \t]*\.(?:global|const)[ \t]+(?:\.align[ \t]+\d+[ \t]+)?\.b8[ \t]+[\w$]+\[)(?P<size>\d+)"
    r"(?P<mid>\][ \t]*=[ \t]*\{)(?P<bytes>[\d, \t]*)(?P<tail>\};)",
    re.MULTILINE,
)


def shim_dir() -> Path:
    """The folder of the standard-header shims (package data)."""
    return (Path(__file__).parent / "include").resolve()


@functools.cache
def shim_digest() -> str:
    """A digest of every shim's name and text: part of the compile cache key."""
    digest = hashlib.sha256()
    root = shim_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def label(root: Path) -> str:
    """How a header folder is named in logs: ``<cccl-include>``, ``<cuda-include>`` or the shims'."""
    if Path(root).resolve() == shim_dir():
        return SHIM_LABEL
    return "<cccl-include>" if Path(root).name == "cccl" else "<cuda-include>"


def toolkit_relative(path: str, names: Iterable[str] = (), roots: Iterable[Path | str] | None = None) -> str:
    """The name a client may see for ``path``: relative to the deepest header folder holding it
    (``cuda/std/array``), else the longest of ``names`` (the submission, its inline headers) it ends
    with, else its last component. Never an absolute path of this machine."""
    folders = _roots() if roots is None else tuple(str(Path(root).resolve()) for root in roots)
    for root in sorted(folders, key=len, reverse=True):
        if path.startswith(root + os.sep):
            return path[len(root) + 1 :]
    for name in sorted(names, key=len, reverse=True):
        if path == name or path.endswith("/" + name):
            return name
    return path.rsplit("/", 1)[-1]


def client_ptx(ptx: str, names: Iterable[str] = (), roots: Iterable[Path | str] | None = None) -> str:
    """PTX as a client sees it: every ``.file`` path made ``toolkit_relative``, and header folders
    cut from string constants (a toolkit header's ``__FILE__``). Instructions are untouched."""
    known = tuple(names)
    folders = _roots() if roots is None else tuple(str(Path(root).resolve()) for root in roots)
    ptx = _FILE_DIRECTIVE.sub(
        lambda m: m.group("head") + toolkit_relative(m.group("path"), known, folders) + m.group("tail"), ptx
    )
    return _BYTES_CONSTANT.sub(lambda m: _strip_folders(m, folders), ptx)


def _strip_folders(match: re.Match[str], folders: tuple[str, ...]) -> str:
    """One ``.b8`` constant with every header folder prefix removed (its size shrunk to match)."""
    old = bytes(int(value) for value in match.group("bytes").replace(",", " ").split())
    new = old
    for root in sorted(folders, key=len, reverse=True):
        new = new.replace(root.encode() + b"/", b"")
    if new == old:
        return match.group(0)
    size = int(match.group("size")) - len(old) + len(new)
    values = ", ".join(str(value) for value in new)
    return f"{match.group('head')}{size}{match.group('mid')}{values}{match.group('tail')}"


def _roots() -> tuple[str, ...]:
    from kernel_skills.toolchain.locate import toolkit

    return tuple(str(root) for root in toolkit().include_dirs)
