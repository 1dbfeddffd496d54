"""Length-prefixed JSON frames between the server and its GPU worker (4-byte big-endian length)."""

from __future__ import annotations

import json
import os
import struct
from typing import Any

MAX_FRAME_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, message: dict[str, Any]) -> None:
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exact(fd: int, count: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = os.read(fd, min(count - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks.extend(chunk)
    return bytes(chunks)


def read_frame(fd: int) -> dict[str, Any] | None:
    """Blocking read of one frame; None at end of stream."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
    body = _read_exact(fd, length)
    if body is None:
        return None
    return json.loads(body)


class FrameBuffer:
    """Incremental decoder for the non-blocking reader on the server side."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._data.extend(chunk)

    def pop(self) -> dict[str, Any] | None:
        if len(self._data) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(self._data)
        if length > MAX_FRAME_BYTES:
            raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME_BYTES}")
        if len(self._data) < _HEADER.size + length:
            return None
        body = bytes(self._data[_HEADER.size : _HEADER.size + length])
        del self._data[: _HEADER.size + length]
        return json.loads(body)


__all__ = ["MAX_FRAME_BYTES", "FrameBuffer", "encode", "read_frame", "write_frame"]
