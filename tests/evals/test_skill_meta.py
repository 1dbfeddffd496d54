"""skill_meta.json validation: the upskill format, strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.errors import RefusedInput
from kernel_skills.evals import SkillMeta, load_skill_meta, parse_skill_meta

GOOD = {
    "metadata": {"skill": "x", "version": 1},
    "tests": [{"input": "q?", "expected": {"contains": ["a", "b"]}}],
}


def _with(**changes: object) -> str:
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return json.dumps(doc)


def test_a_valid_document_parses_to_cases() -> None:
    meta = parse_skill_meta(json.dumps(GOOD))
    assert isinstance(meta, SkillMeta)
    assert meta.tests[0].expected.contains == ["a", "b"]
    assert meta.metadata["skill"] == "x"


def test_metadata_is_optional() -> None:
    assert parse_skill_meta(json.dumps({"tests": GOOD["tests"]})).metadata == {}


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (_with(tests=[]), "tests", "at least 1"),
        (_with(tests__0__expected__contains=["only-one"]), "tests.0.expected.contains", "at least 2"),
        (_with(tests__0__expected__contains=[]), "tests.0.expected.contains", "at least 2"),
        (_with(tests__0__expected__contains=["a", "  "]), "tests.0.expected.contains", "blank"),
        (_with(tests__0__input=""), "tests.0.input", "at least 1"),
        (_with(tests__0__expected__regex="x"), "tests.0.expected.regex", "Extra inputs"),
        (_with(tests__0__name="x"), "tests.0.name", "Extra inputs"),
        (_with(cases=[]), "cases", "Extra inputs"),
        (json.dumps({"metadata": {}}), "tests", "Field required"),
    ],
)
def test_bad_documents_are_refused_naming_the_place_and_the_format(text: str, where: str, what: str) -> None:
    with pytest.raises(RefusedInput) as info:
        parse_skill_meta(text)
    message = str(info.value)
    assert f"{where}:" in message
    assert what in message
    assert "Accepted:" in message


def test_invalid_json_is_refused() -> None:
    with pytest.raises(RefusedInput, match="not valid JSON"):
        parse_skill_meta("{tests: [")


def test_load_accepts_the_file_or_its_skill_folder(tmp_path: Path) -> None:
    (tmp_path / "skill_meta.json").write_text(json.dumps(GOOD), encoding="utf-8")
    assert load_skill_meta(tmp_path) == load_skill_meta(tmp_path / "skill_meta.json")


def test_load_of_a_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match=r"no skill_meta\.json at .*skill_meta\.json"):
        load_skill_meta(tmp_path)
