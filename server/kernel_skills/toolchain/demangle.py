"""Demangle C++ kernel names with the Itanium ABI demangler of the C++ runtime (``__cxa_demangle``),
loaded with ctypes; None where no libstdc++ is present (the mangled name is always reported too)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _demangler() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:  # type: ignore[name-defined]
    for name in ("libstdc++.so.6", ctypes.util.find_library("stdc++"), ctypes.util.find_library("c++")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        except OSError:
            continue
        func = lib.__cxa_demangle
        func.restype = ctypes.c_void_p
        func.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
        free = libc.free
        free.argtypes = [ctypes.c_void_p]
        return func, free
    return None


def demangle(name: str) -> str | None:
    """The readable signature of a mangled name, or None (not mangled, or no demangler here)."""
    if not name.startswith("_Z"):
        return None
    found = _demangler()
    if found is None:
        return None
    func, free = found
    status = ctypes.c_int(0)
    pointer = func(name.encode(), None, None, ctypes.byref(status))
    if status.value != 0 or not pointer:
        return None
    try:
        return ctypes.string_at(pointer).decode(errors="replace")
    finally:
        free(pointer)
