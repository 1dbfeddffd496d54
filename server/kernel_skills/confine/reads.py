"""Confining this process's reads (the compile worker confines itself with it): a user and mount
namespace whose root holds only the allowed folders (``namespace.py``), then Landlock (``landlock.py``).
Either wall alone still confines; with neither, the caller refuses to serve (``policy.py``).

``enter_namespace()`` runs while the process is still single-threaded (the kernel refuses a new user
namespace otherwise); ``confine_reads(...)`` runs once everything the process needs is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kernel_skills.confine import landlock, namespace
from kernel_skills.confine.policy import WITHOUT_ENV, skipped_walls

UNCONFINED_REPORT: dict[str, Any] = {
    "confined": False,
    "method": "unconfined",
    "landlock_abi": None,
    "detail": "opted out",
}


def enter_namespace() -> str | None:
    """Enter a new user + mount namespace. None on success, else why not."""
    if "namespace" in skipped_walls():
        return f"disabled by {WITHOUT_ENV}"
    return namespace.enter()


def confine_reads(read_dirs: list[Path], namespace_error: str | None) -> dict[str, Any]:
    """Hide the host tree (the namespace ``enter_namespace`` made, unless ``namespace_error`` says why
    there is none), then Landlock the reads. The report: ``confined`` (by at least one wall),
    ``method``, ``landlock_abi``, ``detail``."""
    methods: list[str] = []
    notes: list[str] = []
    if namespace_error is None:
        try:
            namespace.hide_host(read_dirs, Path.cwd())
            methods.append("namespace")
        except OSError as exc:
            namespace_error = str(exc)
    if namespace_error is not None:
        notes.append(f"no mount namespace ({namespace_error})")
    skipped = "landlock" in skipped_walls()
    abi = 0 if skipped else landlock.abi_version()
    if abi and landlock.restrict_reads(read_dirs):
        methods.append("landlock")
    else:
        notes.append(f"disabled by {WITHOUT_ENV}" if skipped else "no Landlock (ABI 0)")
    return {
        "confined": bool(methods),
        "method": "+".join(methods) or "unconfined",
        "landlock_abi": abi or None,
        "detail": "; ".join(notes) or "host tree hidden and reads Landlocked",
    }
