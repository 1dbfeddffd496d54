"""skill_meta.json: a skill's test cases in upskill's format, read losslessly, plus our assertions.

``{"metadata": {...}, "tests": [{"input": "...", "context": {"files": {name: content}},
"expected": {"contains": "..." | ["...", ...]}, "output_file", "validator", "validator_config"}]}``
is upskill's format and loads unchanged: every ``metadata`` key is kept, ``contains`` is a
case-insensitive substring test as upskill scores it. Our additions to ``expected``:

- text: ``words`` (whole words / numeric tokens: "50" does not match "1500", "3.0" not "13.0"),
  ``matches`` (regular expressions, case-sensitive unless ``(?i)``), ``not_contains`` (whole words
  that must not appear);
- executable, on the answer's fenced code block(s): ``compiles``, ``kernel``, ``abi``, ``sass_has``,
  ``no_spills``, ``lint_clean``, ``correct`` (needs ``launch``), ``speedup_at_least``.

A typo'd key is refused (it would silently test nothing); a case with no assertion is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kernel_skills.errors import RefusedInput

SKILL_META_FILE = "skill_meta.json"
MAX_PATTERN_CHARS = 200
CODE_KEYS = (
    "compiles",
    "kernel",
    "abi",
    "sass_has",
    "no_spills",
    "lint_clean",
    "correct",
    "speedup_at_least",
)
TEXT_KEYS = ("contains", "words", "matches", "not_contains")


def _non_blank(values: list[str], what: str) -> list[str]:
    blank = [i for i, s in enumerate(values) if not s.strip()]
    if blank:
        raise ValueError(f"{what} must not be blank (blank at index {blank})")
    return values


class LaunchConfig(BaseModel):
    """How the benchmark launches the answer's kernel (expressions over the problem's sizes)."""

    model_config = ConfigDict(extra="forbid")

    block: list[int] = Field(min_length=1, max_length=3)
    grid: list[str | int] = Field(min_length=1, max_length=3)
    shared_mem: str | int = "0"


class Expected(BaseModel):
    """What a correct answer must satisfy. Every listed assertion must pass."""

    model_config = ConfigDict(extra="forbid")

    contains: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)
    matches: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    compiles: bool = False
    kernel: str | None = Field(default=None, max_length=256)
    abi: str | None = None
    sass_has: list[str] = Field(default_factory=list)
    no_spills: bool = False
    lint_clean: bool = False
    correct: str | None = None
    speedup_at_least: float | None = Field(default=None, gt=0)
    launch: LaunchConfig | None = None

    @field_validator("contains", mode="before")
    @classmethod
    def _string_or_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value  # upskill allows one string

    @field_validator("contains", "words", "not_contains")
    @classmethod
    def _strings_non_blank(cls, value: list[str]) -> list[str]:
        return _non_blank(value, "expected strings")

    @field_validator("matches")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in _non_blank(value, "patterns"):
            if len(pattern) > MAX_PATTERN_CHARS:
                raise ValueError(f"pattern {pattern[:40]!r}... is longer than {MAX_PATTERN_CHARS} characters")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc
        return value

    @field_validator("sass_has")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        if not value:
            return value
        from kernel_skills.toolchain import SASS_FEATURES  # the toolchain's names; imported only when used

        unknown = [f for f in value if f not in SASS_FEATURES]
        if unknown:
            raise ValueError(f"unknown SASS features {unknown}; accepted: {', '.join(SASS_FEATURES)}")
        return value

    @model_validator(mode="after")
    def _something_to_check(self) -> Expected:
        if not self.assertion_names():
            raise ValueError(f"no assertion: give at least one of {', '.join(TEXT_KEYS + CODE_KEYS)}")
        if (self.correct or self.speedup_at_least) and self.launch is None:
            raise ValueError("'correct' and 'speedup_at_least' need 'launch': {block, grid, shared_mem}")
        if self.speedup_at_least and not self.correct:
            raise ValueError("'speedup_at_least' needs 'correct': PROBLEM (the problem it is timed on)")
        return self

    def assertion_names(self) -> list[str]:
        names = [f"contains {s!r}" for s in self.contains]
        names += [f"words {s!r}" for s in self.words]
        names += [f"matches {s!r}" for s in self.matches]
        names += [f"not_contains {s!r}" for s in self.not_contains]
        return names + self.code_assertion_names()

    def code_assertion_names(self) -> list[str]:
        names = ["compiles"] if self.compiles else []
        names += [f"kernel {self.kernel}"] if self.kernel else []
        names += [f"abi {self.abi}"] if self.abi else []
        names += [f"sass_has {f}" for f in self.sass_has]
        names += ["no_spills"] if self.no_spills else []
        names += ["lint_clean"] if self.lint_clean else []
        names += [f"correct {self.correct}"] if self.correct else []
        names += [f"speedup_at_least {self.speedup_at_least}"] if self.speedup_at_least else []
        return names

    def problems(self) -> set[str]:
        return {p for p in (self.abi, self.correct) if p}


class Context(BaseModel):
    """upskill's case context: files (name -> content) given to the model with the question."""

    model_config = ConfigDict(extra="allow")

    files: dict[str, str] = Field(default_factory=dict)


class TestCase(BaseModel):
    """One question for the model and what its answer must satisfy."""

    __test__ = False  # not a pytest class, despite the name
    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1)
    context: Context | None = None
    expected: Expected
    # upskill's fields, kept as read; its named validators are reported as not judged here.
    output_file: str | None = None
    validator: str | None = None
    validator_config: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """ "task" when an executable assertion judges the answer's code, else "fact"."""
        return "task" if self.expected.code_assertion_names() else "fact"

    def prompt(self) -> str:
        """The question, with each context file appended as a fenced block (as upskill gives them)."""
        if self.context is None or not self.context.files:
            return self.input
        blocks = [f"File `{name}`:\n```\n{content}\n```" for name, content in self.context.files.items()]
        return self.input + "\n\n" + "\n\n".join(blocks)


class SkillMeta(BaseModel):
    """The whole skill_meta.json document (``metadata`` kept as read, every key)."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any] = Field(default_factory=dict)
    tests: list[TestCase] = Field(min_length=1)


ACCEPTED = (
    'Accepted: {"metadata": {...}, "tests": [{"input": "<question>", "expected": {"contains": "<string>" | '
    '["<string>", ...], "words": [...], "matches": [...], "not_contains": [...], "compiles": true, '
    '"kernel": NAME, "abi": PROBLEM, "sass_has": [...], "no_spills": true, "lint_clean": true, '
    '"correct": PROBLEM, "launch": {"block": [...], "grid": [...]}}}]} (or a list of cases / '
    '{"cases": [...]} for --tests), with at least one assertion per case and no other keys.'
)


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "(document)"
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)


def parse_skill_meta(text: str, *, source: str = SKILL_META_FILE) -> SkillMeta:
    """Parse and validate skill_meta.json text (or an upskill ``--tests`` file: a list of cases or
    ``{"cases": [...]}``). RefusedInput says what is wrong and what is accepted."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefusedInput(f"{source} is not valid JSON: {exc}") from exc
    if isinstance(data, list):
        data = {"tests": data}
    elif isinstance(data, dict) and "cases" in data and "tests" not in data:
        data = {**{k: v for k, v in data.items() if k != "cases"}, "tests": data["cases"]}
    try:
        return SkillMeta.model_validate(data)
    except ValidationError as exc:
        raise RefusedInput(
            f"{source} does not match the skill_meta format:\n{_describe(exc)}\n{ACCEPTED}"
        ) from exc


def load_skill_meta(path: Path) -> SkillMeta:
    """Load a skill's test cases from ``path`` (a skill_meta.json / tests file, or the skill folder)."""
    path = Path(path)
    file = path / SKILL_META_FILE if path.is_dir() else path
    if not file.is_file():
        raise RefusedInput(
            f"no {SKILL_META_FILE} at {file}: a skill to evaluate needs one next to its SKILL.md "
            f'({{"metadata": {{}}, "tests": [...]}}), or pass --tests FILE'
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedInput(f"cannot read {file}: {exc}") from exc
    return parse_skill_meta(text, source=str(file))
