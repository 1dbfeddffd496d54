"""skill_meta.json: a skill's test cases in the upskill format.

``{"metadata": {...}, "tests": [{"input": "...", "expected": {"contains": ["...", ...]}}]}``.
Unknown keys, empty lists and cases with fewer than two expected strings are rejected: one string
is too easy to hit by chance, and a typo'd key would silently test nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kernel_skills.errors import RefusedInput

SKILL_META_FILE = "skill_meta.json"
MIN_EXPECTED_STRINGS = 2


class Expected(BaseModel):
    """What a correct answer must contain (case-insensitive substrings, all of them)."""

    model_config = ConfigDict(extra="forbid")

    contains: list[str] = Field(min_length=MIN_EXPECTED_STRINGS)

    @field_validator("contains")
    @classmethod
    def _non_blank(cls, value: list[str]) -> list[str]:
        blank = [i for i, s in enumerate(value) if not s.strip()]
        if blank:
            raise ValueError(f"expected strings must not be blank (blank at index {blank})")
        return value


class TestCase(BaseModel):
    """One question for the model and what its answer must contain."""

    __test__ = False  # not a pytest class, despite the name
    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    expected: Expected


class SkillMeta(BaseModel):
    """The whole skill_meta.json document."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any] = Field(default_factory=dict)
    tests: list[TestCase] = Field(min_length=1)


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(document)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def parse_skill_meta(text: str, *, source: str = SKILL_META_FILE) -> SkillMeta:
    """Parse and validate skill_meta.json text. RefusedInput says what is wrong and what is accepted."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefusedInput(f"{source} is not valid JSON: {exc}") from exc
    try:
        return SkillMeta.model_validate(data)
    except ValidationError as exc:
        raise RefusedInput(
            f"{source} does not match the skill_meta format:\n{_describe(exc)}\n"
            'Accepted: {"metadata": {...}, "tests": [{"input": "<question>", "expected": '
            f'{{"contains": ["<string>", ...]}}}}]}} with at least {MIN_EXPECTED_STRINGS} non-blank '
            "strings per case and no other keys."
        ) from exc


def load_skill_meta(path: Path) -> SkillMeta:
    """Load a skill's test cases from ``path`` (a skill_meta.json file or the skill folder holding one)."""
    path = Path(path)
    file = path / SKILL_META_FILE if path.is_dir() else path
    if not file.is_file():
        raise RefusedInput(
            f"no {SKILL_META_FILE} at {file}: a skill to evaluate needs one next to its SKILL.md "
            f'({{"metadata": {{}}, "tests": [...]}})'
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedInput(f"cannot read {file}: {exc}") from exc
    return parse_skill_meta(text, source=str(file))
