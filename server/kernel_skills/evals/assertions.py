"""Judging one answer against a case's assertions: text matches and checks on the answer's code.

Every assertion ends as ``passed``, ``failed`` or ``not_judged`` (with the reason: no GPU, no CPU
emulator in this build, an upskill validator we do not run). A not-judged assertion is never
counted as passed. An answer ``passed`` only when every assertion passed; it ``failed`` when any
judged assertion failed; otherwise it is ``not_judged``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from kernel_skills.evals.skill_meta import Expected, TestCase

if TYPE_CHECKING:
    from kernel_skills.runtime import Runtime

Status = Literal["passed", "failed", "not_judged"]
MAX_SCANNED_CHARS = 64 * 1024  # regexes run on at most this much of an answer (bounded work)


class AssertionOutcome(BaseModel):
    name: str  # e.g. "words '50'", "compiles", "correct rmsnorm"
    status: Status
    detail: str = ""
    judged_on: str | None = None  # "gpu" / "cpu-emulator" for correct and speedup_at_least


class AnswerScore(BaseModel):
    """One answer's assertions. ``hit``/``missed`` name the passed/failed ones (not-judged in neither)."""

    status: Status
    passed: bool
    fraction: float  # passed / judged assertions (0 when none was judged)
    hit: list[str]
    missed: list[str]
    not_judged: list[str] = []
    assertions: list[AssertionOutcome] = []


def _token_pattern(needle: str) -> re.Pattern[str]:
    # A whole word or number: no word character on either side, and a number is not part of a
    # longer one ("3.0" is not in "13.0" nor in "3.05").
    return re.compile(rf"(?<!\w)(?<!\d\.){re.escape(needle)}(?!\w)(?!\.\d)", re.IGNORECASE)


def has_token(answer: str, needle: str) -> bool:
    return _token_pattern(needle).search(answer[:MAX_SCANNED_CHARS]) is not None


def text_outcomes(answer: str, expected: Expected) -> list[AssertionOutcome]:
    text = answer.casefold()
    scanned = answer[:MAX_SCANNED_CHARS]
    out: list[AssertionOutcome] = []

    def add(name: str, ok: bool, detail: str) -> None:
        out.append(
            AssertionOutcome(name=name, status="passed" if ok else "failed", detail="" if ok else detail)
        )

    for s in expected.contains:
        add(f"contains {s!r}", s.casefold() in text, "not in the answer (case-insensitive substring)")
    for s in expected.words:
        add(f"words {s!r}", has_token(answer, s), "not in the answer as a whole word / number")
    for p in expected.matches:
        add(f"matches {p!r}", re.search(p, scanned) is not None, "the pattern matches nowhere in the answer")
    for s in expected.not_contains:
        add(f"not_contains {s!r}", not has_token(answer, s), "the answer contains it")
    return out


def score(outcomes: list[AssertionOutcome]) -> AnswerScore:
    hit = [o.name for o in outcomes if o.status == "passed"]
    missed = [o.name for o in outcomes if o.status == "failed"]
    not_judged = [o.name for o in outcomes if o.status == "not_judged"]
    status: Status = "failed" if missed else "not_judged" if not_judged else "passed"
    judged = len(hit) + len(missed)
    return AnswerScore(
        status=status,
        passed=status == "passed",
        fraction=len(hit) / judged if judged else 0.0,
        hit=hit,
        missed=missed,
        not_judged=not_judged,
        assertions=outcomes,
    )


def score_answer(answer: str, expected: Expected) -> AnswerScore:
    """Text assertions only (no compiler): the fast path, and upskill's ``contains``."""
    outcomes = text_outcomes(answer, expected)
    for name in expected.code_assertion_names():
        outcomes.append(AssertionOutcome(name=name, status="not_judged", detail="code checks not run"))
    return score(outcomes)


def judge_answer(answer: str, case: TestCase, runtime: Runtime | None = None) -> AnswerScore:
    """Every assertion of ``case``: text first, then the answer's code with the project's own tools
    (compiled and benchmarked with ``runtime``; None: one made for this judgement alone)."""
    outcomes = text_outcomes(answer, case.expected)
    if case.expected.code_assertion_names():
        from kernel_skills.evals.code_checks import code_outcomes

        outcomes += code_outcomes(answer, case.expected, runtime)
    if case.validator:
        outcomes.append(
            AssertionOutcome(
                name=f"validator {case.validator}",
                status="not_judged",
                detail="upskill's named validators are not run here (its registry ships empty)",
            )
        )
    return score(outcomes)
