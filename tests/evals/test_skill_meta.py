"""skill_meta.json validation: upskill's format read losslessly, our assertions checked strictly."""

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
        (_with(tests__0__expected__contains=[]), "tests.0.expected", "no assertion"),
        (_with(tests__0__expected__matches=["(unclosed"]), "tests.0.expected.matches", "not a valid regular"),
        (_with(tests__0__expected__matches=["x" * 201]), "tests.0.expected.matches", "longer than 200"),
        (_with(tests__0__expected__sass_has=["ldg.256"]), "tests.0.expected.sass_has", "unknown SASS"),
        (_with(tests__0__expected__correct="rmsnorm"), "tests.0.expected", "need 'launch'"),
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


UPSKILL = {
    "metadata": {
        "version": "1.0",
        "generated_by": "upskill",
        "generated_at": "2026-01-01T00:00:00",
        "source_task": "write kernels",
        "test_pass_rate": 0.5,
        "license": "Apache-2.0",
        "compatibility": "any",
    },
    "tests": [
        {
            "input": "Fix the kernel.",
            "context": {"files": {"kernel.cu": "__global__ void k() {}"}},
            "expected": {"contains": "extern"},
            "output_file": "kernel.cu",
            "validator": "compiles",
            "validator_config": {"arch": "sm_90"},
        },
        {"input": "Name two SASS loads.", "expected": {"contains": ["LDG", "LDS"]}},
    ],
}


def test_an_upskill_file_loads_unchanged_and_keeps_every_key() -> None:
    meta = parse_skill_meta(json.dumps(UPSKILL))
    assert meta.metadata == UPSKILL["metadata"]
    first = meta.tests[0]
    assert first.expected.contains == ["extern"], "a single contains string is a list of one"
    assert first.output_file == "kernel.cu"
    assert first.validator == "compiles"
    assert first.validator_config == {"arch": "sm_90"}
    dumped = json.loads(meta.model_dump_json(exclude_defaults=True))
    assert dumped["metadata"] == UPSKILL["metadata"]
    assert dumped["tests"][0]["context"] == UPSKILL["tests"][0]["context"]


def test_context_files_are_appended_to_the_prompt_as_fenced_blocks() -> None:
    case = parse_skill_meta(json.dumps(UPSKILL)).tests[0]
    assert case.prompt() == "Fix the kernel.\n\nFile `kernel.cu`:\n```\n__global__ void k() {}\n```"
    assert parse_skill_meta(json.dumps(UPSKILL)).tests[1].prompt() == "Name two SASS loads."


@pytest.mark.parametrize("wrap", [lambda cases: cases, lambda cases: {"cases": cases}])
def test_a_tests_file_may_be_a_list_of_cases_or_an_object_with_cases(wrap) -> None:
    meta = parse_skill_meta(json.dumps(wrap(UPSKILL["tests"])), source="cases.json")
    assert [t.input for t in meta.tests] == ["Fix the kernel.", "Name two SASS loads."]


def test_a_case_is_a_task_when_an_executable_assertion_judges_its_code() -> None:
    fact = {"input": "q", "expected": {"words": ["50"]}}
    task = {"input": "q", "expected": {"compiles": True, "kernel": "k"}}
    meta = parse_skill_meta(json.dumps({"tests": [fact, task]}))
    assert [t.kind for t in meta.tests] == ["fact", "task"]
    assert meta.tests[1].expected.assertion_names() == ["compiles", "kernel k"]
