"""The lift eval's report (field names are part of the JSON output; add fields freely, never rename)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kernel_skills.evals.assertions import AnswerScore
from kernel_skills.evals.endpoint import Usage
from kernel_skills.evals.tally import AssertionTally, Tally

Condition = Literal["without_skill", "with_skill"]
CONDITIONS: tuple[Condition, Condition] = ("without_skill", "with_skill")
CaseKind = Literal["fact", "task"]


class RunResult(BaseModel):
    """One answer from the model under one condition (or the error that took its place)."""

    run: int
    score: AnswerScore
    answer: str
    usage: Usage | None = None
    latency_s: float | None = None  # request sent -> answer received
    finish_reason: str | None = None  # "length": cut off by --max-tokens
    error: str | None = None  # no answer (timeout, HTTP error): this reason; the run is not judged


class ConditionResult(Tally):
    """All runs of one case under one condition (``Tally``'s counts are over its runs)."""

    mean_fraction: float  # mean over runs of (assertions passed / assertions judged)
    runs: list[RunResult]


class CaseReport(BaseModel):
    index: int
    input: str
    kind: CaseKind = "fact"  # "task": an executable assertion judges the answer's code
    expected: list[str]  # the assertion names
    without_skill: ConditionResult
    with_skill: ConditionResult
    lift: float  # with_skill.pass_rate - without_skill.pass_rate
    problem: str | None = None  # the problem a task case is judged on
    origin: str | None = None  # that problem's origin: "bundled", "user" or "kernelbench"


class Totals(Tally):
    """Over every case and run of one condition."""

    mean_fraction: float
    answers: int = 0
    usage: Usage | None = None  # summed; None when the endpoint reported no usage
    run_pass_rates: list[float] = Field(default_factory=list)  # one per run index, over the cases
    spread: float | None = None  # sample standard deviation of run_pass_rates (runs >= 2)
    latency_s_mean: float | None = None
    latency_s_max: float | None = None
    completion_tokens_per_s: float | None = None  # per answer: completion tokens / latency, mean
    assertions: dict[str, AssertionTally] = Field(default_factory=dict)


class KindReport(BaseModel):
    """Fact cases and task cases, reported apart."""

    cases: int
    without_skill: Totals
    with_skill: Totals
    lift: float


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
    by_kind: dict[str, KindReport] = Field(default_factory=dict)
    by_origin: dict[str, KindReport] = Field(default_factory=dict)  # task cases by their problem's origin
    lift_spread: float | None = None  # standard deviation of the per-run lifts (runs >= 2)
    within_noise: bool | None = None  # |lift| <= 2 standard errors of the per-run lifts (runs >= 2)
    token_savings: float | None = None  # 1 - with_skill tokens / without_skill tokens (upskill's)
    is_beneficial: bool = False  # upskill's rule: lift > 0.05, or lift >= 0 and token_savings > 0.2
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    wall_time_s: float = 0.0
    throughput_tokens_per_s: float | None = None  # completion tokens of both conditions / wall time
    runs_dir: str | None = None  # per-answer JSON, batch summary, CSV
    references_inlined: bool = False
    notes: list[str] = Field(default_factory=list)


class BatchReport(BaseModel):
    """Several models on the same cases (each with its own baseline, unlike upskill's benchmark mode)."""

    skill: str
    models: list[EvalReport]
    runs_dir: str | None = None
