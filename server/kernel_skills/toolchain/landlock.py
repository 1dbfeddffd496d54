"""Wall 3 of the include sandbox: the compile worker confines its own file reads with Linux Landlock.

After this, opening any file outside the allowed folders fails in the kernel (EACCES), whatever path
an ``#include`` spells or a macro builds. Only reads are confined (the goal is that no host file's
content can reach a result). Unprivileged, per process, irreversible; on kernels without Landlock
(< 5.13, or the LSM disabled) ``restrict_reads`` returns False and walls 1 and 2 still hold.
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


def abi_version() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable). The CPU emulator's launcher
    (``emulator/confine.cpp``) applies the full confinement; this tells whether it can."""
    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    version = syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)
