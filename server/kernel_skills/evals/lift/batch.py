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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernel_skills.errors import NoAnswers, RefusedInput
from kernel_skills.evals.assertions import judge_answer
from kernel_skills.evals.endpoint import ChatClient
from kernel_skills.evals.lift.asking import Asking, EvalProgress, LiftOptions
from kernel_skills.evals.lift.models import CONDITIONS, BatchReport, Condition, EvalReport, RunResult
from kernel_skills.evals.lift.runs import EvalSettings, JobKey, RunsFolder
from kernel_skills.evals.lift.summary import Subject, build_report
from kernel_skills.evals.skill_meta import SkillMeta, load_skill_meta
from kernel_skills.evals.skill_text import read_skill, system_prompt
from kernel_skills.runtime import Runtime

MAX_RUNS = 50


def _check_options(models: list[str], options: LiftOptions) -> None:
    if not models or any(not m.strip() for m in models):
        raise RefusedInput("--model must name a model the endpoint serves (e.g. gpt-4o-mini)")
    if not 1 <= options.runs <= MAX_RUNS:
        raise RefusedInput(f"--runs must be between 1 and {MAX_RUNS}, got {options.runs}")
    if not 0 <= options.retries <= 10:
        raise RefusedInput(f"--retries must be between 0 and 10, got {options.retries}")
    if not 1 <= options.concurrency <= 64:
        raise RefusedInput(f"concurrency must be between 1 and 64, got {options.concurrency}")
    if options.max_tokens is not None and not 1 <= options.max_tokens <= 65536:
        raise RefusedInput(f"--max-tokens must be between 1 and 65536, got {options.max_tokens}")


def _subject(skill_dir: Path, tests: Path | None) -> Subject:
    """The skill, its cases (``tests`` or the skill's own) and the origin of every problem they name."""
    skill = read_skill(skill_dir)
    meta: SkillMeta = load_skill_meta(tests if tests is not None else skill_dir)
    return Subject(skill=skill, skill_dir=skill_dir, meta=meta, origins=_origins(meta))


def _origins(meta: SkillMeta) -> dict[str, str]:
    """The origin ("bundled", "user", "kernelbench") of every problem the cases name; RefusedInput
    for a name the server does not know (bundled, KERNEL_SKILLS_PROBLEMS_DIR, imported)."""
    names = {p for case in meta.tests for p in case.expected.problems()}
    if not names:
        return {}
    from kernel_skills.bench import load_registry

    registry = load_registry()
    unknown = sorted(names - set(registry.names()))
    if unknown:
        known = ", ".join(registry.names())
        raise RefusedInput(f"the cases name unknown problems {unknown}; known: {known}")
    return {name: registry.problems[name].kind for name in names}


def _runs_folder(options: LiftOptions, settings: EvalSettings) -> RunsFolder | None:
    if options.resume is not None:
        return RunsFolder.resume(options.resume, settings)
    return RunsFolder.create(options.runs_dir, settings) if options.runs_dir is not None else None


def run_batch(
    skill_dir: Path,
    models: list[str],
    *,
    on_progress: Callable[[EvalProgress], None] | None = None,
    **options: Any,
) -> BatchReport:
    """Evaluate ``skill_dir`` (SKILL.md + skill_meta.json, or ``tests``) on each of ``models``;
    ``options``: the fields of ``LiftOptions``."""
    opts = LiftOptions(**options)
    _check_options(models, opts)
    skill_dir = Path(skill_dir)
    subject = _subject(skill_dir, opts.tests)
    prompts: dict[Condition, str] = {
        "without_skill": system_prompt(None),
        "with_skill": system_prompt(subject.skill),
    }
    with (
        Runtime.given_or_new(opts.runtime) as runtime,  # its compile worker serves every answer
        ChatClient(
            opts.base_url,
            api_key=opts.api_key,
            timeout_s=opts.timeout_s,
            retries=opts.retries,
            backoff_s=opts.backoff_s,
        ) as client,
    ):
        opts = opts.model_copy(update={"runtime": runtime})
        settings = EvalSettings(
            skill=subject.skill.name,
            models=models,
            runs=opts.runs,
            base_url=client.base_url,
            temperature=opts.temperature,
            max_tokens=opts.max_tokens,
            seed=opts.seed,
            cases=[c.prompt() for c in subject.meta.tests],
        )
        folder = _runs_folder(opts, settings)
        done = folder.completed() if folder is not None else {}
        runs_dir = str(folder.path) if folder else None
        try:
            reports = []
            for k, model in enumerate(models):
                start = time.monotonic()
                asking = Asking(client, model, subject.meta, prompts, opts, folder, model_index=k)
                results = asking.ask_all(done, on_progress)
                _require_answers(model, results, client.base_url)
                wall = time.monotonic() - start
                reports.append(
                    build_report(subject, model, results, settings, wall_time_s=wall, runs_dir=runs_dir)
                )
        except BaseException:
            if folder is not None:
                folder.discard()  # removed only when this eval made it and it holds no answer
            raise
    batch = BatchReport(skill=subject.skill.name, models=reports, runs_dir=runs_dir)
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


def rejudge_runs(
    skill_dir: Path, folder: Path, *, tests: Path | None = None, runtime: Runtime | None = None
) -> BatchReport:
    """Judge every answer stored in ``folder`` again with today's assertions; no model is asked.

    For a judge that changed (an emulator fix, a new assertion) without paying for the answers
    twice. The cases must be the ones the eval asked (same prompts, in order); their expected
    assertions may differ. Each run_result.json gets the new score (the earlier report is kept as
    batch_summary.prev.json); wall time and tokens stay those of the eval that asked. ``runtime``
    compiles and benchmarks the code assertions (None: one for this rejudging, closed after it).
    """
    skill_dir, folder = Path(skill_dir), Path(folder)
    skill = read_skill(skill_dir)
    meta: SkillMeta = load_skill_meta(tests if tests is not None else skill_dir)
    settings = RunsFolder.stored_settings(folder, "--rejudge")
    if [c.prompt() for c in meta.tests] != settings.cases:
        raise RefusedInput(
            f"--rejudge {folder}: its eval asked other cases; pass the skill (or --tests file) it ran with"
        )
    subject = Subject(skill=skill, skill_dir=skill_dir, meta=meta, origins=_origins(meta))
    runs_folder = RunsFolder(folder)
    walls = _previous_walls(folder)
    reports = []
    with Runtime.given_or_new(runtime) as judging:
        for model in settings.models:
            results = _rejudged(runs_folder, subject.meta, settings, model, judging)
            wall = walls.get(model, 0.0)
            reports.append(
                build_report(subject, model, results, settings, wall_time_s=wall, runs_dir=str(folder))
            )
    batch = BatchReport(skill=subject.skill.name, models=reports, runs_dir=str(folder))
    runs_folder.write_summary(batch)
    return batch


def _previous_walls(folder: Path) -> dict[str, float]:
    """Each model's wall time from the earlier report, which is kept as batch_summary.prev.json."""
    previous = folder / "batch_summary.json"
    if not previous.is_file():
        return {}
    old = BatchReport.model_validate_json(previous.read_text(encoding="utf-8"))
    os.replace(previous, folder / "batch_summary.prev.json")
    return {r.model: r.wall_time_s for r in old.models}


def _rejudged(
    runs_folder: RunsFolder, meta: SkillMeta, settings: EvalSettings, model: str, runtime: Runtime
) -> dict:
    stored = runs_folder.records()
    results: dict[tuple, RunResult] = {}
    for i, case in enumerate(meta.tests):
        for cond in CONDITIONS:
            for r in range(settings.runs):
                number, record = stored.get((model, i, cond, r), (0, None))
                if record is None:
                    raise RefusedInput(
                        f"--rejudge {runs_folder.path}: case {i} {cond} run {r} of {model} has no stored "
                        "answer (finish the eval with --resume first)"
                    )
                result = record.result
                if result.error is None:  # an error stays that run's outcome
                    result = result.model_copy(update={"score": judge_answer(result.answer, case, runtime)})
                key = JobKey(model=model, case=i, condition=cond, run=r)
                runs_folder.write_run(number, key, case.prompt(), result, settings.base_url)
                results[(model, i, cond, r)] = result
    return results


def run_eval(
    skill_dir: Path,
    model: str,
    *,
    on_answer: Callable[[int, Condition, int], None] | None = None,
    **options: Any,
) -> EvalReport:
    """One model: see ``run_batch`` for the options. ``on_answer(case, condition, run)`` per answer."""

    def progress(p: EvalProgress) -> None:
        if on_answer is not None:
            on_answer(p.case, p.condition, p.run)

    return run_batch(skill_dir, [model], on_progress=progress, **options).models[0]
