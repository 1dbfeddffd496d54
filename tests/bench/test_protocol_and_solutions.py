"""Frames between server and worker, and reading kernels/solutions.json (headers included)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kernel_skills.bench import solutions
from kernel_skills.errors import RefusedInput
from kernel_skills.workerproc import FrameBuffer, encode, read_frame, write_frame


def test_frames_round_trip_through_a_pipe_and_the_incremental_decoder() -> None:
    message = {"kind": "check", "cubin_b64": "A" * 300_000, "sizes": {"n": 7}, "nan": float("nan")}
    read_fd, write_fd = os.pipe()
    try:
        data = encode(message)
        buffer = FrameBuffer()
        for i in range(0, len(data), 4096):  # arrives in pieces
            assert buffer.pop() is None
            buffer.feed(data[i : i + 4096])
        decoded = buffer.pop()
        assert decoded is not None and decoded["cubin_b64"] == message["cubin_b64"]
        write_frame(write_fd, {"ok": True, "result": {"pid": 1}})  # small: fits the pipe buffer
        os.close(write_fd)
        write_fd = -1
        assert read_frame(read_fd) == {"ok": True, "result": {"pid": 1}}
        assert read_frame(read_fd) is None  # end of stream
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def _kernels_dir(tmp_path: Path, entry: dict) -> Path:
    root = tmp_path / "kernels"
    (root / "op").mkdir(parents=True)
    (root / "common").mkdir()
    (root / "common" / "util.h").write_text('#pragma once\n#include "more.h"\n', encoding="utf-8")
    (root / "common" / "more.h").write_text("#pragma once\n", encoding="utf-8")
    (root / "op" / "op.cu").write_text(
        '#include "../common/util.h"\n#include "../../outside.h"\n__global__ void k() {}\n', encoding="utf-8"
    )
    (tmp_path / "outside.h").write_text("SECRET\n", encoding="utf-8")
    (root / "solutions.json").write_text(json.dumps({"op": entry}), encoding="utf-8")
    return root


def test_a_solution_brings_its_quoted_headers_from_inside_the_kernels_dir_only(tmp_path, monkeypatch) -> None:
    entry = {"file": "op/op.cu", "kernel": "k", "block": [256, 1, 1], "grid": ["1", "1", "1"]}
    root = _kernels_dir(tmp_path, entry)
    monkeypatch.setattr(solutions.paths, "bundled_kernels_dir", lambda: root)
    loaded = solutions.load_solution("op")
    assert loaded.solution.kernel == "k" and loaded.solution.shared_mem == "0"
    assert set(loaded.headers) == {"../common/util.h", "more.h"}
    assert all("SECRET" not in text for text in loaded.headers.values())
    with pytest.raises(RefusedInput, match="no reference solution for problem 'other'"):
        solutions.load_solution("other")


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"file": "../outside.h", "kernel": "k", "block": [1], "grid": ["1"]}, "is missing under"),
        ({"file": "op/op.cu", "kernel": "k", "block": [], "grid": ["1"]}, "block"),
    ],
)
def test_bad_solution_entries_are_refused_clearly(tmp_path, monkeypatch, entry: dict, fragment: str) -> None:
    root = _kernels_dir(tmp_path, entry)
    monkeypatch.setattr(solutions.paths, "bundled_kernels_dir", lambda: root)
    with pytest.raises(RefusedInput, match=fragment):
        solutions.load_solution("op")
