"""The lift eval's report from its answers: per case, per condition, by kind and origin, the lift."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from kernel_skills.evals.lift.models import (
    CaseReport,
    Condition,
    ConditionResult,
    EvalReport,
    KindReport,
    RunResult,
    Totals,
)
from kernel_skills.evals.lift.runs import EvalSettings
from kernel_skills.evals.skill_meta import SkillMeta
from kernel_skills.evals.skill_text import SkillText
from kernel_skills.evals.tally import answered, assertion_tallies, mean_fraction, pass_rate, tally_fields

ResultKey = tuple[str, int, Condition, int]  # model, case, condition, run

NOTES = [
    "with_skill puts the SKILL.md body in the system prompt; reference files are not inlined",
    "an answer passes when every assertion passed; pass rates are over judged answers, and "
    "answers with an assertion not judged (no failure) are counted apart, never as passed",
    "contains: case-insensitive substring (upskill's rule); words: whole words / numbers",
]


class Subject(BaseModel):
    """What an eval measures: the skill, its cases and the origin of each problem they name."""

    skill: SkillText
    skill_dir: Path
    meta: SkillMeta
    origins: dict[str, str]


def _condition(runs: list[RunResult]) -> ConditionResult:
    return ConditionResult(**tally_fields(runs), mean_fraction=mean_fraction(runs), runs=runs)


def _case_report(subject: Subject, model: str, index: int, results: dict, n_runs: int) -> CaseReport:
    case = subject.meta.tests[index]
    without = _condition([results[(model, index, "without_skill", r)] for r in range(n_runs)])
    with_ = _condition([results[(model, index, "with_skill", r)] for r in range(n_runs)])
    problem = next(iter(sorted(case.expected.problems())), None)
    return CaseReport(
        index=index,
        input=case.input,
        kind=case.kind,  # type: ignore[arg-type]
        expected=case.expected.assertion_names(),
        without_skill=without,
        with_skill=with_,
        lift=with_.pass_rate - without.pass_rate,
        problem=problem,
        origin=subject.origins.get(problem) if problem else None,
    )


def _totals(cases: list[CaseReport], condition: Condition, n_runs: int) -> Totals:
    runs = [run for case in cases for run in getattr(case, condition).runs]
    usages = [r.usage for r in runs if r.usage is not None]
    per_run = [pass_rate([r for r in runs if r.run == i]) for i in range(n_runs)]
    arrived: list[RunResult] = answered(runs)  # type: ignore[assignment]
    latencies = [r.latency_s for r in arrived if r.latency_s is not None]
    speeds = [
        r.usage.completion_tokens / r.latency_s
        for r in arrived
        if r.usage is not None and r.latency_s and r.usage.completion_tokens
    ]
    return Totals(
        **tally_fields(runs),
        mean_fraction=mean_fraction(runs),
        answers=len(runs),
        usage=sum(usages[1:], usages[0]) if usages else None,
        run_pass_rates=per_run,
        spread=statistics.stdev(per_run) if n_runs >= 2 else None,
        latency_s_mean=statistics.fmean(latencies) if latencies else None,
        latency_s_max=max(latencies) if latencies else None,
        completion_tokens_per_s=statistics.fmean(speeds) if speeds else None,
        assertions=assertion_tallies(runs),
    )


def _groups(
    cases: list[CaseReport], n_runs: int, key: Callable[[CaseReport], str | None]
) -> dict[str, KindReport]:
    out: dict[str, KindReport] = {}
    for kind in dict.fromkeys(k for c in cases if (k := key(c)) is not None):
        subset = [c for c in cases if key(c) == kind]
        if subset:
            w, s = _totals(subset, "without_skill", n_runs), _totals(subset, "with_skill", n_runs)
            out[kind] = KindReport(
                cases=len(subset), without_skill=w, with_skill=s, lift=s.pass_rate - w.pass_rate
            )
    return out


def lift_noise(without: Totals, with_: Totals) -> tuple[float | None, bool | None, float]:
    """(spread of the per-run lifts, whether the mean lift is within 2 standard errors of 0, mean lift)."""
    lifts = [s - w for w, s in zip(without.run_pass_rates, with_.run_pass_rates, strict=True)]
    mean = with_.pass_rate - without.pass_rate
    if len(lifts) < 2:
        return None, None, mean
    spread = statistics.stdev(lifts)
    return spread, abs(mean) <= 2 * spread / len(lifts) ** 0.5, mean


def _token_savings(without: Totals, with_: Totals) -> float | None:
    if without.usage is None or with_.usage is None or not without.usage.total_tokens:
        return None
    return 1 - with_.usage.total_tokens / without.usage.total_tokens


def _error_note(without: Totals, with_: Totals) -> list[str]:
    errors, asked = without.errors + with_.errors, without.answers + with_.answers
    if not errors:
        return []
    return [
        f"{errors} of {asked} requests got no answer (see each run's error): they are counted as "
        "errors, not judged and not in any pass rate"
    ]


def build_report(
    subject: Subject,
    model: str,
    results: dict,
    settings: EvalSettings,
    *,
    wall_time_s: float,
    runs_dir: str | None,
) -> EvalReport:
    """One model's report from its answers, ``results[(model, case, condition, run)]``."""
    n_runs = settings.runs
    cases = [_case_report(subject, model, i, results, n_runs) for i in range(len(subject.meta.tests))]
    w, s = _totals(cases, "without_skill", n_runs), _totals(cases, "with_skill", n_runs)
    spread, within, lift = lift_noise(w, s)
    savings = _token_savings(w, s)
    generated = sum(t.usage.completion_tokens for t in (w, s) if t.usage is not None)
    return EvalReport(
        throughput_tokens_per_s=generated / wall_time_s if generated and wall_time_s > 0 else None,
        skill=subject.skill.name,
        skill_dir=str(subject.skill_dir),
        model=model,
        cases=cases,
        without_skill=w,
        with_skill=s,
        lift=lift,
        fraction_lift=s.mean_fraction - w.mean_fraction,
        by_kind=_groups(cases, n_runs, lambda c: c.kind),
        by_origin=_groups(cases, n_runs, lambda c: c.origin),
        lift_spread=spread,
        within_noise=within,
        token_savings=savings,
        is_beneficial=lift > 0.05 or (lift >= 0 and savings is not None and savings > 0.2),
        notes=[*_error_note(w, s), *NOTES],
        base_url=settings.base_url,
        runs=n_runs,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        wall_time_s=wall_time_s,
        runs_dir=runs_dir,
    )
