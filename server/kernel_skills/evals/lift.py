"""Skill lift: ask a model each case N times without and N times with the skill, judge each answer.

"With the skill" means the SKILL.md body (frontmatter stripped) is in the system prompt. Reference
files are NOT inlined: the score measures what the body alone teaches. Both conditions get the
same base system prompt, so the body is the only difference (upskill's two conditions differ by
more). Every model is measured with its own baseline.

An answer that does not arrive (timeout, HTTP error after retries) is recorded with its error
as that run's outcome — "no answer", counted apart and never in a pass rate — and the eval goes on.
The eval stops with the endpoint's error when the endpoint is unusable: refused, unreachable or
answering errors before any answer came, or a 4xx other than 408/429. A model with no answer at all
is an error too (``NoAnswers``): no report is made from zero answers. Each answer is written to the
runs folder as it arrives, so ``resume=`` continues a killed eval; an eval that got no answer
leaves no folder.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from pydantic import BaseModel

from kernel_skills.errors import EndpointError, NoAnswers, RefusedInput, SkillError
from kernel_skills.evals.assertions import AnswerScore, AssertionOutcome, judge_answer, score
from kernel_skills.evals.client import ChatClient
from kernel_skills.evals.models import (
    CONDITIONS,
    AssertionTally,
    BatchReport,
    CaseReport,
    Condition,
    ConditionResult,
    EvalReport,
    KindReport,
    RunResult,
    Totals,
)
from kernel_skills.evals.runs import EvalSettings, JobKey, RunsFolder
from kernel_skills.evals.skill_meta import SkillMeta, TestCase, load_skill_meta

BASE_SYSTEM_PROMPT = "You are an expert software engineer. Answer the question precisely and concisely."
MAX_RUNS = 50
MAX_REASONS = 3


class SkillText(BaseModel):
    name: str
    body: str


class EvalProgress(BaseModel):
    """Sent after every answer (for a progress display)."""

    model: str
    done: dict[str, int]  # condition -> answers so far (resumed ones included)
    total: dict[str, int]  # condition -> answers in the eval
    errors: int
    elapsed_s: float
    completion_tokens: int  # generated in this process so far
    tokens_per_s: float | None  # completion tokens / elapsed (all requests in flight together)
    case: int  # the answer just in
    condition: Condition
    run: int
    last: str  # e.g. "case 3 with_skill run 0: passed (12.3 s)"


def read_skill(skill_dir: Path) -> SkillText:
    """The skill's name and SKILL.md body (frontmatter removed), parsed as the catalog parses it."""
    from kernel_skills.catalog.frontmatter import FrontmatterError, parse_skill_md

    skill_md = Path(skill_dir) / "SKILL.md"
    if not skill_md.is_file():
        raise RefusedInput(f"{skill_dir} is not a skill folder: it has no SKILL.md")
    try:
        parsed = parse_skill_md(skill_md.read_bytes())
    except OSError as exc:
        raise SkillError(f"cannot read {skill_md}: {exc}") from exc
    except FrontmatterError as exc:
        raise SkillError(f"{skill_md}: {exc}") from exc
    name = parsed.frontmatter.get("name")
    if not isinstance(name, str) or not name:
        raise SkillError(f"{skill_md}: frontmatter has no 'name'")
    return SkillText(name=name, body=parsed.body.strip())


def system_prompt(skill: SkillText | None) -> str:
    if skill is None:
        return BASE_SYSTEM_PROMPT
    return (
        f"{BASE_SYSTEM_PROMPT}\n\nYou have loaded the skill '{skill.name}'. Its instructions follow.\n\n"
        f"{skill.body}"
    )


# --- aggregation -------------------------------------------------------------------------------


def _answered(runs: list[RunResult]) -> list[RunResult]:
    return [r for r in runs if r.error is None]


def _judged(runs: list[RunResult]) -> list[RunResult]:
    return [r for r in _answered(runs) if r.score.status != "not_judged"]


def _mean_fraction(runs: list[RunResult]) -> float:
    answered = _answered(runs)
    return sum(r.score.fraction for r in answered) / len(answered) if answered else 0.0


def _rate(runs: list[RunResult]) -> float:
    judged = _judged(runs)
    return sum(r.score.passed for r in judged) / len(judged) if judged else 0.0


def _condition(runs: list[RunResult]) -> ConditionResult:
    judged = _judged(runs)
    answered = _answered(runs)
    return ConditionResult(
        pass_rate=_rate(runs),
        mean_fraction=_mean_fraction(runs),
        judged=len(judged),
        not_judged=len(answered) - len(judged),
        errors=len(runs) - len(answered),
        runs=runs,
    )


def _assertion_kind(name: str) -> str:
    return name.split(" ", 1)[0]


def _tallies(runs: list[RunResult]) -> dict[str, AssertionTally]:
    """Assertion outcomes over the answers that arrived (a run without an answer judged nothing)."""
    tallies: dict[str, AssertionTally] = {}
    for r in runs:
        for a in r.score.assertions:
            t = tallies.setdefault(_assertion_kind(a.name), AssertionTally())
            if a.status == "passed":
                t.passed += 1
            elif a.status == "failed":
                t.failed += 1
            else:
                t.not_judged += 1
                if a.detail not in t.reasons_not_judged and len(t.reasons_not_judged) < MAX_REASONS:
                    t.reasons_not_judged.append(a.detail)
    return dict(sorted(tallies.items()))


def _totals(cases: list[CaseReport], condition: Condition, n_runs: int) -> Totals:
    runs = [run for case in cases for run in getattr(case, condition).runs]
    usages = [r.usage for r in runs if r.usage is not None]
    usage = sum(usages[1:], usages[0]) if usages else None
    judged = _judged(runs)
    per_run = [_rate([r for r in runs if r.run == i]) for i in range(n_runs)]
    latencies = [r.latency_s for r in runs if r.latency_s is not None and r.error is None]
    speeds = [
        r.usage.completion_tokens / r.latency_s
        for r in runs
        if r.usage is not None and r.latency_s and r.error is None and r.usage.completion_tokens
    ]
    answered = _answered(runs)
    return Totals(
        pass_rate=_rate(runs),
        mean_fraction=_mean_fraction(runs),
        answers=len(runs),
        judged=len(judged),
        not_judged=len(answered) - len(judged),
        errors=len(runs) - len(answered),
        usage=usage,
        run_pass_rates=per_run,
        spread=statistics.stdev(per_run) if n_runs >= 2 else None,
        latency_s_mean=statistics.fmean(latencies) if latencies else None,
        latency_s_max=max(latencies) if latencies else None,
        completion_tokens_per_s=statistics.fmean(speeds) if speeds else None,
        assertions=_tallies(answered),
    )


def _kinds(cases: list[CaseReport], n_runs: int) -> dict[str, KindReport]:
    return _groups(cases, n_runs, lambda c: c.kind)


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


def _noise(without: Totals, with_: Totals) -> tuple[float | None, bool | None, float]:
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


def _report(
    skill: SkillText,
    skill_dir: Path,
    model: str,
    meta: SkillMeta,
    results: dict[tuple, RunResult],
    origins: dict[str, str] | None = None,
    **kw: object,
) -> EvalReport:
    n_runs = int(kw["runs"])  # type: ignore[call-overload]
    cases: list[CaseReport] = []
    for i, case in enumerate(meta.tests):
        without = _condition([results[(model, i, "without_skill", r)] for r in range(n_runs)])
        with_ = _condition([results[(model, i, "with_skill", r)] for r in range(n_runs)])
        cases.append(
            CaseReport(
                index=i,
                input=case.input,
                kind=case.kind,  # type: ignore[arg-type]
                expected=case.expected.assertion_names(),
                without_skill=without,
                with_skill=with_,
                lift=with_.pass_rate - without.pass_rate,
                problem=(problem := next(iter(sorted(case.expected.problems())), None)),
                origin=(origins or {}).get(problem) if problem else None,
            )
        )
    w, s = _totals(cases, "without_skill", n_runs), _totals(cases, "with_skill", n_runs)
    spread, within, lift = _noise(w, s)
    savings = _token_savings(w, s)
    generated = sum(t.usage.completion_tokens for t in (w, s) if t.usage is not None)
    wall = float(kw["wall_time_s"])  # type: ignore[arg-type]
    return EvalReport(
        throughput_tokens_per_s=generated / wall if generated and wall > 0 else None,
        skill=skill.name,
        skill_dir=str(skill_dir),
        model=model,
        cases=cases,
        without_skill=w,
        with_skill=s,
        lift=lift,
        fraction_lift=s.mean_fraction - w.mean_fraction,
        by_kind=_kinds(cases, n_runs),
        by_origin=_groups(cases, n_runs, lambda c: c.origin),
        lift_spread=spread,
        within_noise=within,
        token_savings=savings,
        is_beneficial=lift > 0.05 or (lift >= 0 and savings is not None and savings > 0.2),
        notes=[
            *_error_note(w, s),
            "with_skill puts the SKILL.md body in the system prompt; reference files are not inlined",
            "an answer passes when every assertion passed; pass rates are over judged answers, and "
            "answers with an assertion not judged (no failure) are counted apart, never as passed",
            "contains: case-insensitive substring (upskill's rule); words: whole words / numbers",
        ],
        **kw,  # type: ignore[arg-type]
    )


def _error_note(without: Totals, with_: Totals) -> list[str]:
    errors, asked = without.errors + with_.errors, without.answers + with_.answers
    if not errors:
        return []
    return [
        f"{errors} of {asked} requests got no answer (see each run's error): they are counted as "
        "errors, not judged and not in any pass rate"
    ]


# --- running -----------------------------------------------------------------------------------


def no_answer_score(case: TestCase, error: str) -> AnswerScore:
    """The score of a run whose answer never came: nothing judged (it is counted as an error)."""
    return score(
        [
            AssertionOutcome(name=n, status="not_judged", detail=f"no answer: {error}")
            for n in case.expected.assertion_names()
        ]
    )


def _check_args(models: list[str], runs: int, retries: int, concurrency: int, max_tokens: int | None) -> None:
    if not models or any(not m.strip() for m in models):
        raise RefusedInput("--model must name a model the endpoint serves (e.g. gpt-4o-mini)")
    if not 1 <= runs <= MAX_RUNS:
        raise RefusedInput(f"--runs must be between 1 and {MAX_RUNS}, got {runs}")
    if not 0 <= retries <= 10:
        raise RefusedInput(f"--retries must be between 0 and 10, got {retries}")
    if not 1 <= concurrency <= 64:
        raise RefusedInput(f"concurrency must be between 1 and 64, got {concurrency}")
    if max_tokens is not None and not 1 <= max_tokens <= 65536:
        raise RefusedInput(f"--max-tokens must be between 1 and 65536, got {max_tokens}")


def _check_problems(meta: SkillMeta) -> dict[str, str]:
    """The origin ("bundled", "user", "kernelbench") of every problem the cases name; RefusedInput
    for a name the server does not know (bundled, KERNEL_SKILLS_PROBLEMS_DIR, imported)."""
    names = {p for case in meta.tests for p in case.expected.problems()}
    if not names:
        return {}
    from kernel_skills.bench.registry import load_registry

    registry = load_registry()
    unknown = sorted(names - set(registry.names()))
    if unknown:
        known = ", ".join(registry.names())
        raise RefusedInput(f"the cases name unknown problems {unknown}; known: {known}")
    return {name: registry.problems[name].kind for name in names}


def run_batch(
    skill_dir: Path,
    models: list[str],
    *,
    base_url: str | None = None,
    runs: int = 1,
    tests: Path | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    concurrency: int = 4,
    retries: int = 2,
    backoff_s: float = 1.0,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    seed: int | None = None,
    runs_dir: Path | None = None,
    resume: Path | None = None,
    on_progress: Callable[[EvalProgress], None] | None = None,
) -> BatchReport:
    """Evaluate ``skill_dir`` (SKILL.md + skill_meta.json, or ``tests``) on each of ``models``."""
    _check_args(models, runs, retries, concurrency, max_tokens)
    skill_dir = Path(skill_dir)
    skill = read_skill(skill_dir)
    meta: SkillMeta = load_skill_meta(tests if tests is not None else skill_dir)
    origins = _check_problems(meta)
    prompts: dict[Condition, str] = {"without_skill": system_prompt(None), "with_skill": system_prompt(skill)}

    with ChatClient(
        base_url, api_key=api_key, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s
    ) as client:
        settings = EvalSettings(
            skill=skill.name,
            models=models,
            runs=runs,
            base_url=client.base_url,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            cases=[c.prompt() for c in meta.tests],
        )
        folder = (
            RunsFolder.resume(resume, settings)
            if resume is not None
            else RunsFolder.create(runs_dir, settings)
            if runs_dir is not None
            else None
        )
        done = folder.completed() if folder is not None else {}
        sampling = dict(temperature=temperature, max_tokens=max_tokens, seed=seed)
        try:
            reports = []
            for model in models:
                start = time.monotonic()
                results = _ask_all(
                    client, model, meta, prompts, runs, concurrency, folder, done, on_progress, sampling
                )
                _require_answers(model, results, client.base_url)
                reports.append(
                    _report(
                        skill,
                        skill_dir,
                        model,
                        meta,
                        results,
                        origins,
                        **_settings_fields(settings),
                        wall_time_s=time.monotonic() - start,
                        runs_dir=str(folder.path) if folder else None,
                    )
                )
        except BaseException:
            if folder is not None:
                folder.discard()  # removed only when this eval made it and it holds no answer
            raise
    batch = BatchReport(skill=skill.name, models=reports, runs_dir=str(folder.path) if folder else None)
    if folder is not None:
        folder.write_summary(batch)
    return batch


def _require_answers(model: str, results: dict[tuple, RunResult], url: str) -> None:
    """A report from zero answers would be a made-up measurement: refuse it."""
    errors = [r.error for r in results.values() if r.error is not None]
    if results and len(errors) == len(results):
        raise NoAnswers(
            f"{url} answered none of the {len(results)} requests for model {model!r}, so there is "
            f"nothing to measure and no report was written. First error: {errors[0]}"
        )


def _settings_fields(settings: EvalSettings) -> dict[str, object]:
    """The report fields an eval's settings give (the same for an eval and its rejudging)."""
    return {
        "base_url": settings.base_url,
        "runs": settings.runs,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
    }


def rejudge_runs(skill_dir: Path, folder: Path, *, tests: Path | None = None) -> BatchReport:
    """Judge every answer stored in ``folder`` again with today's assertions; no model is asked.

    For a judge that changed (an emulator fix, a new assertion) without paying for the answers
    twice. The cases must be the ones the eval asked (same prompts, in order); their expected
    assertions may differ. Each run_result.json gets the new score (the earlier report is kept as
    batch_summary.prev.json); wall time and tokens stay those of the eval that asked.
    """
    skill_dir, folder = Path(skill_dir), Path(folder)
    skill = read_skill(skill_dir)
    meta: SkillMeta = load_skill_meta(tests if tests is not None else skill_dir)
    settings = RunsFolder.stored_settings(folder, "--rejudge")
    if [c.prompt() for c in meta.tests] != settings.cases:
        raise RefusedInput(
            f"--rejudge {folder}: its eval asked other cases; pass the skill (or --tests file) it ran with"
        )
    origins = _check_problems(meta)
    runs_folder = RunsFolder(folder)
    stored = runs_folder.records()
    previous = folder / "batch_summary.json"
    walls: dict[str, float] = {}
    if previous.is_file():
        old = BatchReport.model_validate_json(previous.read_text(encoding="utf-8"))
        walls = {r.model: r.wall_time_s for r in old.models}
        os.replace(previous, folder / "batch_summary.prev.json")
    reports = []
    for model in settings.models:
        results: dict[tuple, RunResult] = {}
        for i, case in enumerate(meta.tests):
            for cond in CONDITIONS:
                for r in range(settings.runs):
                    number, record = stored.get((model, i, cond, r), (0, None))
                    if record is None:
                        raise RefusedInput(
                            f"--rejudge {folder}: case {i} {cond} run {r} of {model} has no stored answer "
                            "(finish the eval with --resume first)"
                        )
                    result = record.result
                    if result.error is None:  # an error stays that run's outcome
                        result = result.model_copy(update={"score": judge_answer(result.answer, case)})
                    runs_folder.write_run(
                        number,
                        JobKey(model=model, case=i, condition=cond, run=r),
                        case.prompt(),
                        result,
                        settings.base_url,
                    )
                    results[(model, i, cond, r)] = result
        reports.append(
            _report(
                skill,
                skill_dir,
                model,
                meta,
                results,
                origins,
                **_settings_fields(settings),
                wall_time_s=walls.get(model, 0.0),
                runs_dir=str(folder),
            )
        )
    batch = BatchReport(skill=skill.name, models=reports, runs_dir=str(folder))
    runs_folder.write_summary(batch)
    return batch


def _ask_all(
    client: ChatClient,
    model: str,
    meta: SkillMeta,
    prompts: dict[Condition, str],
    runs: int,
    concurrency: int,
    folder: RunsFolder | None,
    done: dict,
    on_progress: Callable[[EvalProgress], None] | None,
    sampling: dict,
) -> dict[tuple, RunResult]:
    # One condition after the other, the skill first: every request on the engine then shares its
    # system prompt with the ones before it, so llama.cpp-style servers reuse the cached prefix (the
    # skill body is most of each prompt) instead of processing it again for every answer.
    jobs = [
        (i, cond, r) for cond in reversed(CONDITIONS) for r in range(runs) for i in range(len(meta.tests))
    ]
    numbers = {job: n for n, job in enumerate(jobs, start=1)}
    results: dict[tuple, RunResult] = {}
    for i, cond, r in jobs:
        if (model, i, cond, r) in done:
            results[(model, i, cond, r)] = done[(model, i, cond, r)].result
    lock = threading.Lock()
    start = time.monotonic()
    state = {"answered": 0, "tokens": 0, "errors": 0}
    counts = {c: sum(1 for k in results if k[2] == c) for c in CONDITIONS}
    total = {c: len(meta.tests) * runs for c in CONDITIONS}

    def ask(job: tuple[int, Condition, int]) -> None:
        i, cond, r = job
        case = meta.tests[i]
        messages = [{"role": "system", "content": prompts[cond]}, {"role": "user", "content": case.prompt()}]
        sent = time.monotonic()
        try:
            reply = client.chat(model, messages, **_run_sampling(sampling, r))
        except EndpointError as exc:
            with lock:
                never_worked = state["answered"] == 0
            if not exc.timed_out and (never_worked or exc.refused):
                raise
            result = RunResult(
                run=r,
                score=no_answer_score(case, str(exc)),
                answer="",
                latency_s=time.monotonic() - sent,
                error=str(exc),
            )
        else:
            latency = time.monotonic() - sent
            result = RunResult(
                run=r,
                score=judge_answer(reply.text, case),
                answer=reply.text,
                usage=reply.usage,
                latency_s=latency,
                finish_reason=reply.finish_reason,
            )
        if folder is not None:
            folder.write_run(
                numbers[job],
                JobKey(model=model, case=i, condition=cond, run=r),
                case.prompt(),
                result,
                client.base_url,
            )
        with lock:
            results[(model, i, cond, r)] = result
            counts[cond] += 1
            if result.error is None:
                state["answered"] += 1
                state["tokens"] += result.usage.completion_tokens if result.usage else 0
            else:
                state["errors"] += 1
            elapsed = time.monotonic() - start
            progress = EvalProgress(
                model=model,
                done=dict(counts),
                total=total,
                errors=state["errors"],
                elapsed_s=elapsed,
                completion_tokens=state["tokens"],
                case=i,
                condition=cond,
                run=r,
                tokens_per_s=state["tokens"] / elapsed if state["tokens"] and elapsed > 0 else None,
                last=f"case {i} {cond} run {r}: {'no answer' if result.error else result.score.status}"
                + (f" ({result.error[:80]})" if result.error else f" ({result.latency_s:.1f} s)"),
            )
        if on_progress is not None:
            on_progress(progress)

    todo = [job for job in jobs if (model, *job) not in results]
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        futures = [pool.submit(ask, job) for job in todo]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in finished:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
    except BaseException:
        # A fatal endpoint error or Ctrl-C: drop the queued requests and do not wait for the ones
        # in flight (closing the client, by the caller, ends them). Stored answers stay for --resume.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _run_sampling(sampling: dict, run: int) -> dict:
    """Run ``r`` samples with seed ``seed + r``: repeated runs differ at a temperature above 0."""
    if sampling.get("seed") is None:
        return sampling
    return {**sampling, "seed": sampling["seed"] + run}


def run_eval(
    skill_dir: Path,
    model: str,
    *,
    on_answer: Callable[[int, Condition, int], None] | None = None,
    **kwargs: object,
) -> EvalReport:
    """One model: see ``run_batch`` for the options. ``on_answer(case, condition, run)`` per answer."""

    def progress(p: EvalProgress) -> None:
        if on_answer is not None:
            on_answer(p.case, p.condition, p.run)

    return run_batch(skill_dir, [model], on_progress=progress, **kwargs).models[0]  # type: ignore[arg-type]
