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


def toolkit_relative(path: str, names: Iterable[str] = (), roots: Iterable[Path] | None = None) -> str:
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


def client_ptx(ptx: str, names: Iterable[str] = (), roots: Iterable[Path] | None = None) -> str:
    """PTX with every ``.file`` path made ``toolkit_relative``; nothing else changes."""
    known = tuple(names)
    folders = None if roots is None else tuple(roots)
    return _FILE_DIRECTIVE.sub(
        lambda m: m.group("head") + toolkit_relative(m.group("path"), known, folders) + m.group("tail"), ptx
    )


def _roots() -> tuple[str, ...]:
    from kernel_skills.toolchain.locate import toolkit

    return tuple(str(root) for root in toolkit().include_dirs)
