"""Asking one model every case x condition x run of a lift eval, judging and storing each answer.

One condition after the other, the skill first: every request on the engine then shares its system
prompt with the ones before it, so llama.cpp-style servers reuse the cached prefix (the skill body is
most of each prompt) instead of processing it again for every answer.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field

from kernel_skills.errors import EndpointError
from kernel_skills.evals.assertions import judge_answer
from kernel_skills.evals.endpoint import ChatClient
from kernel_skills.evals.fanout import fan_out
from kernel_skills.evals.lift.models import CONDITIONS, Condition, RunResult
from kernel_skills.evals.lift.runs import JobKey, RunsFolder
from kernel_skills.evals.skill_meta import SkillMeta
from kernel_skills.evals.tally import no_answer_score
from kernel_skills.runtime import Runtime

Job = tuple[int, Condition, int]  # case, condition, run


class LiftOptions(BaseModel):
    """A lift eval's options (``run_batch``'s keywords), in one place."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    base_url: str | None = None
    runs: int = 1
    tests: Path | None = None
    api_key: str | None = None
    timeout_s: float = 120.0
    concurrency: int = 4
    retries: int = 2
    backoff_s: float = 1.0
    temperature: float | None = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    runs_dir: Path | None = None
    resume: Path | None = None
    runtime: Runtime | None = Field(
        None,
        description="compiles and benchmarks the code assertions; None: one for this eval, closed after it",
    )

    def sampling(self, run: int) -> dict[str, float | int | None]:
        """Run ``run`` samples with seed ``seed + run``: repeated runs differ at a temperature above 0."""
        seed = None if self.seed is None else self.seed + run
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": seed}


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


class Asking:
    """One model's requests: each answered (or failed) in a worker thread, counted in the loop."""

    def __init__(
        self,
        client: ChatClient,
        model: str,
        meta: SkillMeta,
        prompts: dict[Condition, str],
        options: LiftOptions,
        folder: RunsFolder | None,
        *,
        model_index: int = 0,
    ) -> None:
        self.client, self.model, self.meta, self.prompts = client, model, meta, prompts
        self.options, self.folder = options, folder
        self.jobs: list[Job] = [
            (i, cond, r)
            for cond in reversed(CONDITIONS)
            for r in range(options.runs)
            for i in range(len(meta.tests))
        ]
        # run_N numbers are unique in the folder: each model of a batch has its own block of them.
        first = 1 + model_index * len(self.jobs)
        self.numbers = {job: n for n, job in enumerate(self.jobs, start=first)}
        self.total = {c: len(meta.tests) * options.runs for c in CONDITIONS}
        self.counts = dict.fromkeys(CONDITIONS, 0)
        self.answered = self.errors = self.tokens = 0
        self.start = time.monotonic()

    def answer(self, job: Job) -> RunResult:
        """Blocking: ask, judge and store one job's answer (or the error that took its place)."""
        i, cond, r = job
        case = self.meta.tests[i]
        messages = [
            {"role": "system", "content": self.prompts[cond]},
            {"role": "user", "content": case.prompt()},
        ]
        sent = time.monotonic()
        try:
            reply = self.client.chat(self.model, messages, **self.options.sampling(r))  # type: ignore[arg-type]
        except EndpointError as exc:
            if not exc.timed_out and (self.answered == 0 or exc.refused):
                raise
            result = RunResult(
                run=r,
                score=no_answer_score(case, str(exc)),
                answer="",
                latency_s=time.monotonic() - sent,
                error=str(exc),
            )
        else:
            result = RunResult(
                run=r,
                score=judge_answer(reply.text, case, self.options.runtime),
                answer=reply.text,
                usage=reply.usage,
                latency_s=time.monotonic() - sent,
                finish_reason=reply.finish_reason,
            )
        if self.folder is not None:
            key = JobKey(model=self.model, case=i, condition=cond, run=r)
            self.folder.write_run(self.numbers[job], key, case.prompt(), result, self.client.base_url)
        return result

    def progress(self, job: Job, result: RunResult) -> EvalProgress:
        """Count ``result`` in and say where the eval stands."""
        i, cond, r = job
        self.counts[cond] += 1
        if result.error is None:
            self.answered += 1
            self.tokens += result.usage.completion_tokens if result.usage else 0
        else:
            self.errors += 1
        elapsed = time.monotonic() - self.start
        outcome = "no answer" if result.error else result.score.status
        detail = f" ({result.error[:80]})" if result.error else f" ({result.latency_s:.1f} s)"
        return EvalProgress(
            model=self.model,
            done=dict(self.counts),
            total=self.total,
            errors=self.errors,
            elapsed_s=elapsed,
            completion_tokens=self.tokens,
            case=i,
            condition=cond,
            run=r,
            tokens_per_s=self.tokens / elapsed if self.tokens and elapsed > 0 else None,
            last=f"case {i} {cond} run {r}: {outcome}{detail}",
        )

    def ask_all(
        self, done: dict, on_progress: Callable[[EvalProgress], None] | None
    ) -> dict[tuple, RunResult]:
        """Every answer, keyed ``(model, case, condition, run)``; the stored ones in ``done`` (a resumed
        eval) are not asked again."""
        model = self.model
        resumed = {job: done[(model, *job)].result for job in self.jobs if (model, *job) in done}
        for cond in CONDITIONS:
            self.counts[cond] = sum(1 for job in resumed if job[1] == cond)
        threads = anyio.CapacityLimiter(self.options.concurrency)

        async def work(job: Job) -> RunResult:
            result = await anyio.to_thread.run_sync(
                functools.partial(self.answer, job), abandon_on_cancel=True, limiter=threads
            )
            progress = self.progress(job, result)
            if on_progress is not None:
                on_progress(progress)
            return result

        async def run() -> dict[Job, RunResult]:
            return await fan_out(self.jobs, work, concurrency=self.options.concurrency, done=resumed)

        return {(model, *job): result for job, result in anyio.run(run).items()}
