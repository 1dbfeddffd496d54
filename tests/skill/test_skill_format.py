"""The bundled skill is spec-valid, within the size guidance, and its reference links are complete."""

from __future__ import annotations

import re
from pathlib import Path

import skills_ref

SKILL_NAME = "h100-cuda-kernels"

MAX_BODY_TOKENS = 5000  # spec guidance; estimated at ~4 characters per token
MAX_LINES = 500
REFERENCE_FILES = {
    "references/h100-architecture.md",
    "references/memory-bound-kernels.md",
    "references/hopper-features.md",
    "references/kernel-builder.md",
    "references/diffusers-integration.md",
    "references/reading-reports.md",
}


def test_skill_is_valid_for_the_reference_validator(skill_dir: Path) -> None:
    assert skills_ref.validate(skill_dir) == []


def test_skill_is_valid_for_our_validator_without_warnings(skill_dir: Path) -> None:
    from kernel_skills.catalog import validate_path

    result = validate_path(skill_dir)
    assert result.valid, result.errors
    assert result.errors == []
    assert result.warnings == []
    assert result.name == SKILL_NAME


def test_frontmatter_has_the_name_and_a_precise_description(skill_parts: tuple[dict, str]) -> None:
    front, _ = skill_parts
    assert front["name"] == SKILL_NAME
    description = front["description"]
    assert len(description) <= 1024
    for term in ("CUDA", "H100", "Hopper", "diffusers", "kernel-builder"):
        assert term in description
    assert "Not for" in description, "the description says when not to load the skill"
    assert all(isinstance(v, str) for v in front.get("metadata", {}).values())
    assert len(front.get("compatibility", "")) <= 500


def test_body_is_under_5000_estimated_tokens_and_500_lines(skill_dir: Path, skill_parts) -> None:
    _, body = skill_parts
    assert len(body) / 4 < MAX_BODY_TOKENS
    assert len((skill_dir / "SKILL.md").read_text(encoding="utf-8").splitlines()) < MAX_LINES


def test_every_linked_reference_exists_and_every_reference_is_linked(skill_dir: Path, skill_parts) -> None:
    _, body = skill_parts
    linked = set(re.findall(r"\]\((references/[^)#\s]+)\)", body))
    on_disk = {p.relative_to(skill_dir).as_posix() for p in (skill_dir / "references").iterdir()}
    assert linked == on_disk == REFERENCE_FILES


def test_reference_files_stay_loadable_one_at_a_time(skill_dir: Path) -> None:
    for rel in REFERENCE_FILES:
        text = (skill_dir / rel).read_text(encoding="utf-8")
        assert text.startswith("# "), f"{rel} starts with a title"
        assert "Read this" in text.split("\n\n")[1], f"{rel} says when to read it in its first paragraph"
        assert len(text) / 4 < 8000, f"{rel} is too long to load on demand"
