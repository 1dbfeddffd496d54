"""Wall 3 of the include sandbox: the compile worker confines its own file reads with Linux Landlock.

After this, opening any file outside the allowed folders fails in the kernel (EACCES), whatever path
an ``#include`` spells or a macro builds. Only reads are confined (the goal is that no host file's
content can reach a result). Unprivileged, per process, irreversible; on kernels without Landlock
(< 5.13, or the LSM disabled) ``restrict_reads`` returns False and walls 1 and 2 still hold.
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct
from collections.abc import Iterable
from pathlib import Path

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and aarch64
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3


def restrict_reads(allowed: Iterable[Path]) -> bool:
    """Allow reading only beneath ``allowed`` (folders or files) from now on. False if unsupported."""
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    if syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)) < 1:
        return False
    handled = _READ_FILE | _READ_DIR
    attr = ctypes.create_string_buffer(struct.pack("<Q", handled))
    ruleset = syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        for path in allowed:
            _allow(syscall, ruleset, Path(path), handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def _allow(syscall: ctypes._CFuncPtr, ruleset: int, path: Path, handled: int) -> None:  # type: ignore[name-defined]
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a missing folder simply is not allowed
    try:
        rights = handled if path.is_dir() else _READ_FILE
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd))  # packed: u64 + s32
        syscall(
            _SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule, ctypes.c_uint32(0)
        )
    finally:
        os.close(fd)


# --- Full confinement of a child process (the CPU emulator's runner and its g++ build) -------------
# Unlike ``restrict_reads`` above, this handles every access right the kernel's Landlock ABI knows
# (reads, writes, exec, making and removing files), TCP bind/connect (ABI >= 4) and abstract unix
# sockets and signals outside the process (ABI >= 6), and it fails closed: any rule that cannot be
# added raises instead of being skipped.

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_FS_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}  # bits per ABI version
_TRUNCATE = 1 << 14
_IOCTL_DEV = 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV  # what a file rule may carry
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class ConfinementError(OSError):
    """Landlock is missing or a rule could not be applied: the caller must not run the child."""


def _syscall() -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    libc = ctypes.CDLL(None, use_errno=True)
    call = libc.syscall
    call.restype = ctypes.c_long
    return call


def abi_version() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable)."""
    version = _syscall()(
        _SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION)
    )
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    return _FS_ABI[max(v for v in _FS_ABI if v <= abi)]


def confine(
    *,
    read: Iterable[Path],
    read_write: Iterable[Path],
    execute: Iterable[Path] = (),
) -> int:
    """Confine this process (and what it execs) for good; return the ABI version used.

    ``read``: folders or files readable (and listable); ``read_write``: folders where files may also be
    created, written, truncated and removed; ``execute``: the only files that may be executed (each also
    readable). Everything else on the file system is denied, TCP bind/connect is denied (ABI >= 4), and
    abstract unix sockets and signals to processes outside this one's domain are denied (ABI >= 6).
    Raises ConfinementError when Landlock is unavailable or any rule fails."""
    abi = abi_version()
    if abi < 1:
        raise ConfinementError("Linux Landlock is not available (kernel 5.13+ with the landlock LSM enabled)")
    fs = _fs_rights(abi)
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if abi >= 6 else 0
    attr_bytes = struct.pack("<QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    syscall = _syscall()
    attr = ctypes.create_string_buffer(attr_bytes)
    ruleset = syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(len(attr_bytes)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise ConfinementError(f"landlock_create_ruleset failed (errno {ctypes.get_errno()})")
    reading = _READ_FILE | _READ_DIR
    try:
        for path in read:
            _add_rule(syscall, ruleset, Path(path), reading)
        for path in read_write:
            _add_rule(syscall, ruleset, Path(path), fs & ~_EXECUTE)
        for path in execute:
            _add_rule(syscall, ruleset, Path(path), _EXECUTE | _READ_FILE)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise ConfinementError(f"prctl(PR_SET_NO_NEW_PRIVS) failed (errno {ctypes.get_errno()})")
        if syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise ConfinementError(f"landlock_restrict_self failed (errno {ctypes.get_errno()})")
    finally:
        os.close(ruleset)
    return abi


def _add_rule(syscall: ctypes._CFuncPtr, ruleset: int, path: Path, rights: int) -> None:  # type: ignore[name-defined]
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # nothing there to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd))
        done = syscall(
            _SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule, ctypes.c_uint32(0)
        )
        if done != 0:
            raise ConfinementError(f"landlock_add_rule for {path} failed (errno {ctypes.get_errno()})")
    finally:
        os.close(fd)
