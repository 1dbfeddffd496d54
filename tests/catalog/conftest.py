"""Fixtures for the catalog tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "skills"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _no_env_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KERNEL_SKILLS_PATH from the developer's shell must not leak into the tests."""
    monkeypatch.delenv("KERNEL_SKILLS_PATH", raising=False)
