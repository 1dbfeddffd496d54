"""A process's private view of the file system (the compile worker's): a user and a mount namespace.

``enter()`` must run while the process is still single-threaded (the kernel refuses a new user
namespace otherwise), before NVRTC is loaded. ``hide_host(allowed, root)`` runs after NVRTC is warm:
it mounts an empty tmpfs on ``root``, bind-mounts each allowed folder at its own path inside it and
chroots there. From then on every other host path does not exist for this process, so an
``#include`` or ``__has_include`` of a host file sees "no such file", exactly as for a missing one.
Unprivileged (the user namespace grants the mount rights inside it only); the host is not changed.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from pathlib import Path

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def enter() -> str | None:
    """Enter a new user + mount namespace (same uid/gid mapped). None on success, else why not."""
    uid, gid = os.getuid(), os.getgid()
    libc = _libc()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        return f"unshare(CLONE_NEWUSER|CLONE_NEWNS) failed: {os.strerror(ctypes.get_errno())}"
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing we mount propagates back
    except OSError as exc:
        return f"setting up the namespace failed: {exc}"
    return None


def hide_host(allowed: Iterable[Path], root: Path) -> None:
    """Make ``root`` (an empty folder) the process's ``/`` with only ``allowed`` inside. OSError if not."""
    libc = _libc()
    _mount(libc, "tmpfs", str(root), "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, "size=64k,mode=0755")
    for path in allowed:
        source = Path(path).resolve()
        if not source.exists():
            continue  # a missing folder simply is not there
        target = root / source.relative_to("/")
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        _mount(libc, str(source), str(target), None, _MS_BIND | _MS_REC)
    os.chroot(root)
    os.chdir("/")


def _mount(
    libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int, data: str = ""
) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    if (
        libc.mount(
            encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data or None)
        )
        != 0
    ):
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source or ''} on {target}: {os.strerror(errno)}")
