"""How the answers of one condition came out, the same way for every eval: the one computation.

An outcome is anything judged with a score that may instead hold an error (a lift run, an agentic
episode). An outcome with an error never got an answer: it is counted apart and judged nothing. Of
the answered, the judged ones (every assertion judged, or one failed) make the pass rate; the rest
(no failure, one assertion not judged) are never counted as passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from kernel_skills.evals.assertions import AnswerScore, AssertionOutcome, score
from kernel_skills.evals.skill_meta import TestCase

MAX_REASONS = 3


class Outcome(Protocol):
    @property
    def score(self) -> AnswerScore: ...

    @property
    def error(self) -> str | None: ...


class AssertionTally(BaseModel):
    """One kind of assertion ("compiles", "abi", "words", ...) over every answer of a condition."""

    passed: int = 0
    failed: int = 0
    not_judged: int = 0
    reasons_not_judged: list[str] = Field(default_factory=list)  # distinct reasons, first few


class Tally(BaseModel):
    """The counts every eval report gives per condition (its field names are part of the JSON)."""

    pass_rate: float  # passed / judged (0 when none was judged)
    judged: int = 0  # every assertion judged, or one failed
    not_judged: int = 0  # no failed assertion but one not judged (never counted as passed)
    errors: int = 0  # no answer came (timeout, HTTP error): not judged, not in the pass rate


def answered(outcomes: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.error is None]


def judged(outcomes: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in answered(outcomes) if o.score.status != "not_judged"]


def pass_rate(outcomes: Sequence[Outcome]) -> float:
    passed = judged(outcomes)
    return sum(o.score.passed for o in passed) / len(passed) if passed else 0.0


def mean_fraction(outcomes: Sequence[Outcome]) -> float:
    """Mean over the answered outcomes of (assertions passed / assertions judged)."""
    arrived = answered(outcomes)
    return sum(o.score.fraction for o in arrived) / len(arrived) if arrived else 0.0


def tally(outcomes: Sequence[Outcome]) -> Tally:
    arrived, counted = answered(outcomes), judged(outcomes)
    return Tally(
        pass_rate=pass_rate(outcomes),
        judged=len(counted),
        not_judged=len(arrived) - len(counted),
        errors=len(outcomes) - len(arrived),
    )


def tally_fields(outcomes: Sequence[Outcome]) -> dict[str, float | int]:
    """``tally`` as the keyword arguments of a report model that extends ``Tally``."""
    return tally(outcomes).model_dump()


def assertion_tallies(outcomes: Sequence[Outcome]) -> dict[str, AssertionTally]:
    """Assertion outcomes by kind over the answers that arrived (an error judged nothing)."""
    tallies: dict[str, AssertionTally] = {}
    for outcome in answered(outcomes):
        for a in outcome.score.assertions:
            t = tallies.setdefault(a.name.split(" ", 1)[0], AssertionTally())
            if a.status == "passed":
                t.passed += 1
            elif a.status == "failed":
                t.failed += 1
            else:
                t.not_judged += 1
                if a.detail not in t.reasons_not_judged and len(t.reasons_not_judged) < MAX_REASONS:
                    t.reasons_not_judged.append(a.detail)
    return dict(sorted(tallies.items()))


def no_answer_score(case: TestCase, error: str) -> AnswerScore:
    """The score of an outcome whose answer never came: nothing judged (it is counted as an error)."""
    return score(
        [
            AssertionOutcome(name=n, status="not_judged", detail=f"no answer: {error}")
            for n in case.expected.assertion_names()
        ]
    )
