"""Scoring an answer against a case's expected strings: case-insensitive substring matches."""

from __future__ import annotations

from pydantic import BaseModel

from kernel_skills.evals.skill_meta import Expected


class AnswerScore(BaseModel):
    """One answer: which expected strings it contains. It passes only when it contains all of them."""

    passed: bool
    fraction: float  # expected strings hit / expected strings
    hit: list[str]
    missed: list[str]


def score_answer(answer: str, expected: Expected) -> AnswerScore:
    text = answer.casefold()
    hit = [s for s in expected.contains if s.casefold() in text]
    missed = [s for s in expected.contains if s.casefold() not in text]
    return AnswerScore(passed=not missed, fraction=len(hit) / len(expected.contains), hit=hit, missed=missed)
