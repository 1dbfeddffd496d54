"""The bundled skill_meta.json validates, and every fact it checks is taught by the SKILL.md body."""

from __future__ import annotations

import re
from pathlib import Path

from kernel_skills.evals import has_token, load_skill_meta


def test_skill_meta_validates_with_at_least_12_fact_cases_of_2_assertions(skill_dir: Path) -> None:
    meta = load_skill_meta(skill_dir)
    facts = [case for case in meta.tests if case.kind == "fact"]
    assert len(facts) >= 12
    assert all(len(case.expected.assertion_names()) >= 2 for case in meta.tests)
    assert len({case.input for case in meta.tests}) == len(meta.tests), "no duplicate questions"


def test_every_expected_string_is_in_the_body(skill_dir: Path, skill_parts) -> None:
    """The eval inlines only the body, so it must contain every fact the cases check."""
    _, body = skill_parts
    text = body.casefold()
    missing = []
    for case in load_skill_meta(skill_dir).tests:
        e = case.expected
        missing += [(case.input[:50], s) for s in e.contains if s.casefold() not in text]
        missing += [(case.input[:50], s) for s in e.words if not has_token(body, s)]
        if case.kind == "fact":
            missing += [(case.input[:50], p) for p in e.matches if not re.search(p, body)]
    assert missing == []
