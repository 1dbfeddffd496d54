"""Verifying downloaded GGUF weights: magic, metadata (read by the real gguf package), pinned sha256."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernel_skills.errors import RefusedInput
from kernel_skills.evals.lift import Q4_K_M_FILE_TYPE, read_gguf, sha256_of, verify_gguf


def _write_gguf(path: Path, *, arch: str = "qwen2", file_type: int = Q4_K_M_FILE_TYPE) -> Path:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch)
    writer.add_name("Tiny Test Model")
    writer.add_file_type(file_type)
    writer.add_context_length(128)
    writer.add_tensor("t", np.zeros((4,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_gguf_file_with_the_pinned_hash_is_verified_and_its_metadata_read(tmp_path: Path) -> None:
    path = _write_gguf(tmp_path / "m.gguf")
    info = verify_gguf(path, sha256_of(path))
    assert (info.architecture, info.name, info.quantisation, info.context_length) == (
        "qwen2",
        "Tiny Test Model",
        "Q4_K_M",
        128,
    )


def test_a_different_hash_or_model_is_refused_saying_what_differs(tmp_path: Path) -> None:
    path = _write_gguf(tmp_path / "m.gguf", arch="llama", file_type=1)
    with pytest.raises(RefusedInput) as info:
        verify_gguf(path, "0" * 64)
    message = str(info.value)
    assert "is not the pinned" in message
    assert "architecture 'llama' is not 'qwen2'" in message
    assert "not Q4_K_M" in message


def test_a_file_that_is_not_gguf_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(RefusedInput, match="not a GGUF file"):
        read_gguf(path)
