"""Worker processes run untrusted input (submitted CUDA, NVRTC on submitted source). What they send back
must be parsed as data: no pickle/marshal/shelve anywhere in the server package."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "kernel_skills"
UNSAFE = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|marshal|shelve|dill|cloudpickle)\b", re.M)


def test_the_server_package_never_imports_an_unsafe_deserialiser() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for match in UNSAFE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
