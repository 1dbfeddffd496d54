"""The bundled skill_meta.json validates, and every fact it checks is taught by the SKILL.md body."""

from __future__ import annotations

from pathlib import Path

from kernel_skills.evals import load_skill_meta


def test_skill_meta_validates_with_at_least_12_cases_of_2_strings(skill_dir: Path) -> None:
    meta = load_skill_meta(skill_dir)
    assert len(meta.tests) >= 12
    assert all(len(case.expected.contains) >= 2 for case in meta.tests)
    assert len({case.input for case in meta.tests}) == len(meta.tests), "no duplicate questions"


def test_every_expected_string_is_in_the_body(skill_dir: Path, skill_parts) -> None:
    """The eval inlines only the body, so it must contain every fact the cases check."""
    _, body = skill_parts
    text = body.casefold()
    missing = [
        (case.input[:50], s)
        for case in load_skill_meta(skill_dir).tests
        for s in case.expected.contains
        if s.casefold() not in text
    ]
    assert missing == []
