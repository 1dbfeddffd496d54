"""Skill lift: ask a model each skill_meta.json question N times without and N times with the skill.

"With the skill" means the SKILL.md body (frontmatter stripped) is in the system prompt. Reference
files are NOT inlined: the score measures what the body alone teaches (an agent would still have
to fetch references on demand). Both conditions get the same base system prompt, so the body is
the only difference.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from pydantic import BaseModel

from kernel_skills.errors import RefusedInput, SkillError
from kernel_skills.evals.client import ChatClient
from kernel_skills.evals.models import (
    CaseReport,
    Condition,
    ConditionResult,
    EvalReport,
    RunResult,
    Totals,
)
from kernel_skills.evals.scoring import score_answer
from kernel_skills.evals.skill_meta import SkillMeta, load_skill_meta

BASE_SYSTEM_PROMPT = "You are an expert software engineer. Answer the question precisely and concisely."
MAX_RUNS = 50


class SkillText(BaseModel):
    name: str
    body: str


def read_skill(skill_dir: Path) -> SkillText:
    """The skill's name and SKILL.md body (frontmatter removed)."""
    skill_md = Path(skill_dir) / "SKILL.md"
    if not skill_md.is_file():
        raise RefusedInput(f"{skill_dir} is not a skill folder: it has no SKILL.md")
    try:
        text = skill_md.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillError(f"cannot read {skill_md}: {exc}") from exc
    parts = text.split("---", 2) if text.startswith("---") else []
    if len(parts) < 3:
        raise SkillError(f"{skill_md} has no YAML frontmatter between '---' lines")
    try:
        front = yaml.safe_load(parts[1])
    except yaml.YAMLError as exc:
        raise SkillError(f"{skill_md}: frontmatter is not valid YAML: {exc}") from exc
    name = front.get("name") if isinstance(front, dict) else None
    if not isinstance(name, str) or not name:
        raise SkillError(f"{skill_md}: frontmatter has no 'name'")
    return SkillText(name=name, body=parts[2].strip())


def system_prompt(skill: SkillText | None) -> str:
    if skill is None:
        return BASE_SYSTEM_PROMPT
    return (
        f"{BASE_SYSTEM_PROMPT}\n\nYou have loaded the skill '{skill.name}'. Its instructions follow.\n\n"
        f"{skill.body}"
    )


def _condition(runs: list[RunResult]) -> ConditionResult:
    n = len(runs)
    return ConditionResult(
        pass_rate=sum(r.score.passed for r in runs) / n,
        mean_fraction=sum(r.score.fraction for r in runs) / n,
        runs=runs,
    )


def _totals(cases: list[CaseReport], condition: Condition) -> Totals:
    runs = [run for case in cases for run in getattr(case, condition).runs]
    usages = [r.usage for r in runs if r.usage is not None]
    usage = sum(usages[1:], usages[0]) if usages else None
    return Totals(
        pass_rate=sum(r.score.passed for r in runs) / len(runs),
        mean_fraction=sum(r.score.fraction for r in runs) / len(runs),
        usage=usage,
    )


def run_eval(
    skill_dir: Path,
    model: str,
    *,
    base_url: str | None = None,
    runs: int = 1,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    concurrency: int = 4,
    retries: int = 2,
    backoff_s: float = 1.0,
    on_answer: Callable[[int, Condition, int], None] | None = None,
) -> EvalReport:
    """Evaluate ``skill_dir`` (must hold SKILL.md and skill_meta.json) against ``model``."""
    if not model.strip():
        raise RefusedInput("--model must name a model the endpoint serves (e.g. gpt-4o-mini)")
    if not 1 <= runs <= MAX_RUNS:
        raise RefusedInput(f"--runs must be between 1 and {MAX_RUNS}, got {runs}")
    if not 0 <= retries <= 10:
        raise RefusedInput(f"--retries must be between 0 and 10, got {retries}")
    if not 1 <= concurrency <= 64:
        raise RefusedInput(f"concurrency must be between 1 and 64, got {concurrency}")
    skill_dir = Path(skill_dir)
    skill = read_skill(skill_dir)
    meta: SkillMeta = load_skill_meta(skill_dir)
    prompts: dict[Condition, str] = {"without_skill": system_prompt(None), "with_skill": system_prompt(skill)}
    jobs = [
        (i, cond, run)
        for i in range(len(meta.tests))
        for cond in ("without_skill", "with_skill")
        for run in range(runs)
    ]

    with ChatClient(
        base_url, api_key=api_key, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s
    ) as client:

        def ask(job: tuple[int, Condition, int]) -> RunResult:
            i, cond, run = job
            case = meta.tests[i]
            messages = [{"role": "system", "content": prompts[cond]}, {"role": "user", "content": case.input}]
            reply = client.chat(model, messages)
            if on_answer is not None:
                on_answer(i, cond, run)
            return RunResult(
                run=run, score=score_answer(reply.text, case.expected), answer=reply.text, usage=reply.usage
            )

        pool = ThreadPoolExecutor(max_workers=concurrency)
        try:
            futures = [pool.submit(ask, job) for job in jobs]
            results = [future.result() for future in futures]
        finally:
            # On the first failure, drop the queued requests instead of sending them all.
            pool.shutdown(wait=True, cancel_futures=True)
        resolved_url = client.base_url

    by_job = dict(zip(jobs, results, strict=True))
    cases: list[CaseReport] = []
    for i, case in enumerate(meta.tests):
        without = _condition([by_job[(i, "without_skill", r)] for r in range(runs)])
        with_ = _condition([by_job[(i, "with_skill", r)] for r in range(runs)])
        cases.append(
            CaseReport(
                index=i,
                input=case.input,
                expected=case.expected.contains,
                without_skill=without,
                with_skill=with_,
                lift=with_.pass_rate - without.pass_rate,
            )
        )
    without_t, with_t = _totals(cases, "without_skill"), _totals(cases, "with_skill")
    return EvalReport(
        skill=skill.name,
        skill_dir=str(skill_dir),
        model=model,
        base_url=resolved_url,
        runs=runs,
        cases=cases,
        without_skill=without_t,
        with_skill=with_t,
        lift=with_t.pass_rate - without_t.pass_rate,
        fraction_lift=with_t.mean_fraction - without_t.mean_fraction,
        notes=[
            "with_skill puts the SKILL.md body in the system prompt; reference files are not inlined",
            "a case passes when the answer contains every expected string (case-insensitive)",
        ],
    )
