"""Shared paths and parsed pieces of the bundled h100-cuda-kernels skill."""

from __future__ import annotations

from pathlib import Path

import pytest
from skills_ref.parser import parse_frontmatter

from kernel_skills.paths import bundled_skills_dir

SKILL_NAME = "h100-cuda-kernels"


@pytest.fixture(scope="session")
def skill_dir() -> Path:
    return bundled_skills_dir() / SKILL_NAME


@pytest.fixture(scope="session")
def skill_parts(skill_dir: Path) -> tuple[dict, str]:
    """(frontmatter, body) as the reference validator parses them."""
    return parse_frontmatter((skill_dir / "SKILL.md").read_text(encoding="utf-8"))
