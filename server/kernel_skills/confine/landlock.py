"""Linux Landlock for a process that confines itself (the compile worker): from
``restrict_reads(allowed)`` on, reading or executing any file outside the allowed folders fails in the
kernel (EACCES), whatever path is spelled.

Only reads (and execution) are confined: the goal is that no host file's content can reach a result.
Unprivileged, per process, irreversible. Needs Landlock ABI 1 or later (Linux 5.13+, the LSM
enabled); ``abi_version()`` says which the kernel offers (0: none) — the policy asks it too before a
launched child is confined by the launcher (``launcher.cpp``, its own Landlock rules in C++).
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterable
from pathlib import Path

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and aarch64
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_EXECUTE = 1 << 0
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3


def _syscall() -> tuple[ctypes.CDLL, ctypes._CFuncPtr]:  # type: ignore[name-defined]
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    return libc, syscall


def abi_version() -> int:
    """The Landlock ABI the running kernel offers; 0 when it has none (or it is disabled)."""
    _, syscall = _syscall()
    version = syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def restrict_reads(allowed: Iterable[Path]) -> bool:
    """Allow reading only beneath ``allowed`` (folders or files) from now on. False if unsupported."""
    if abi_version() < 1:
        return False
    libc, syscall = _syscall()
    handled = _EXECUTE | _READ_FILE | _READ_DIR
    attr = ctypes.create_string_buffer(struct.pack("<Q", handled))
    ruleset = syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        for path in allowed:
            _allow(syscall, ruleset, Path(path))
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)


def _allow(syscall: ctypes._CFuncPtr, ruleset: int, path: Path) -> None:  # type: ignore[name-defined]
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a missing folder simply is not allowed
    try:
        rights = _READ_FILE | _READ_DIR if path.is_dir() else _READ_FILE
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd))  # packed: u64 + s32
        syscall(
            _SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule, ctypes.c_uint32(0)
        )
    finally:
        os.close(fd)
