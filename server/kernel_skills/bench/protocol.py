"""Length-prefixed JSON frames between the server and its GPU worker (4-byte big-endian length).

The framing lives in ``kernel_skills.workerproc`` (shared with the compile worker); JSON is its
default codec, so these are the GPU worker's frames."""

from __future__ import annotations

from kernel_skills.workerproc import MAX_FRAME_BYTES, FrameBuffer, encode, read_frame, write_frame

__all__ = ["MAX_FRAME_BYTES", "FrameBuffer", "encode", "read_frame", "write_frame"]
