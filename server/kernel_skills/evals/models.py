"""The eval report (field names are part of the JSON output; add fields freely, never rename)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kernel_skills.evals.client import Usage
from kernel_skills.evals.scoring import AnswerScore

Condition = Literal["without_skill", "with_skill"]


class RunResult(BaseModel):
    """One answer from the model under one condition."""

    run: int
    score: AnswerScore
    answer: str
    usage: Usage | None = None


class ConditionResult(BaseModel):
    """All runs of one case under one condition."""

    pass_rate: float  # runs that contained every expected string / runs
    mean_fraction: float  # mean over runs of (expected strings hit / expected strings)
    runs: list[RunResult]


class CaseReport(BaseModel):
    index: int
    input: str
    expected: list[str]
    without_skill: ConditionResult
    with_skill: ConditionResult
    lift: float  # with_skill.pass_rate - without_skill.pass_rate


class Totals(BaseModel):
    """Over every case and run of one condition."""

    pass_rate: float
    mean_fraction: float
    usage: Usage | None = None  # summed; None when the endpoint reported no usage


class EvalReport(BaseModel):
    skill: str
    skill_dir: str
    model: str
    base_url: str
    runs: int
    cases: list[CaseReport]
    without_skill: Totals
    with_skill: Totals
    lift: float  # with_skill.pass_rate - without_skill.pass_rate
    fraction_lift: float  # with_skill.mean_fraction - without_skill.mean_fraction
    references_inlined: bool = False
    notes: list[str] = Field(default_factory=list)
