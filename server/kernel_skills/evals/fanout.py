"""The one runner both evals fan out with: every job not done yet, a bounded number at a time.

anyio, not a thread pool: the agentic eval's episodes are coroutines over an async MCP toolbox, and
the lift eval's blocking requests run as ``to_thread`` jobs from the same loop. Jobs start in the
order given (the limiter is first come, first served). The first error stops the eval: queued jobs
never start, running ones are cancelled (a blocking request is abandoned, not waited for: closing
its client ends it) and that error is raised as itself, not wrapped in an exception group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import TypeVar

import anyio

from kernel_skills.errors import KernelSkillsError

J = TypeVar("J", bound=Hashable)
R = TypeVar("R")


async def fan_out(
    jobs: Sequence[J],
    work: Callable[[J], Awaitable[R | None]],
    *,
    concurrency: int,
    done: Mapping[J, R] | None = None,
) -> dict[J, R]:
    """``work(job)`` for each job not in ``done`` (a resumed eval's results), ``concurrency`` at a time.

    The results by job, in the order of ``jobs``, the ``done`` ones included; a job whose work
    returns None has none.
    """
    results: dict[J, R] = dict(done or {})
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(job: J) -> None:
        async with limiter:
            result = await work(job)
        if result is not None:
            results[job] = result

    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            for job in jobs:
                if job not in results:
                    group.start_soon(one, job)
    except BaseExceptionGroup as errors:
        failure = first_error(errors)
    if failure is not None:
        raise failure  # outside the handler: the error keeps its own cause, not the group as context
    return {job: results[job] for job in jobs if job in results}


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The error that stopped the jobs: the first domain error (an unusable endpoint) in the group,
    else its only error, else the group itself."""
    for exc in group.exceptions:
        found = first_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, KernelSkillsError):
            return found
    if len(group.exceptions) == 1:
        only = group.exceptions[0]
        return first_error(only) if isinstance(only, BaseExceptionGroup) else only
    return group
