"""GPU worker process: ``python -m kernel_skills.bench.worker_main`` (started by ``worker.py``).

Reads length-prefixed JSON jobs on stdin, answers on the original stdout. File descriptor 1 is
pointed at stderr first, so nothing else (library prints, a kernel's ``printf``) can corrupt the
protocol. After any unexpected error — a CUDA fault poisons the whole context — it answers with
``fatal: true`` and exits; the server starts a fresh worker for the next job.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from kernel_skills.errors import KernelFault, KernelSkillsError, ProblemError, RefusedInput
from kernel_skills.workerproc import claim_channel, serve

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _test_jobs() -> dict[str, Handler]:
    def sleep(job: dict[str, Any]) -> dict[str, Any]:
        time.sleep(float(job.get("seconds", 0)))
        return {"slept": job.get("seconds", 0)}

    def hang(job: dict[str, Any]) -> dict[str, Any]:
        while True:
            time.sleep(0.5)

    def crash(job: dict[str, Any]) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGSEGV)  # as a crash in a CUDA library would
        return {}

    def fail(job: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("a deliberate failure inside the worker (test job)")

    def refuse(job: dict[str, Any]) -> dict[str, Any]:
        raise RefusedInput("a deliberate RefusedInput (test job)")

    def fault_then_failed_cleanup(job: dict[str, Any]) -> dict[str, Any]:
        # As after a CUDA fault: the cleanup on the way out hits the sticky error too.
        try:
            raise KernelFault("a deliberate KernelFault (test job)")
        finally:
            raise RuntimeError("CUDA error: an illegal memory access was encountered (during cleanup)")

    return {
        "sleep": sleep,
        "hang": hang,
        "crash": crash,
        "fail": fail,
        "refuse": refuse,
        "fault_then_failed_cleanup": fault_then_failed_cleanup,
    }


def _handlers() -> dict[str, Handler]:
    def ping(job: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid()}

    def gpu(name: str) -> Handler:
        def run(job: dict[str, Any]) -> dict[str, Any]:
            from kernel_skills.bench import gpu_jobs  # torch and cupy load here, in the worker only

            return getattr(gpu_jobs, name)(job)

        return run

    handlers = {"ping": ping}
    handlers.update(
        {name: gpu(name) for name in ("hello", "calibrate", "check", "time_kernel", "time_baseline")}
    )
    if os.environ.get("KERNEL_SKILLS_WORKER_TEST_JOBS") == "1":
        handlers.update(_test_jobs())
    return handlers


def _answer(handlers: dict[str, Handler], job: dict[str, Any]) -> dict[str, Any]:
    kind = job.get("kind")
    handler = handlers.get(kind) if isinstance(kind, str) else None
    if handler is None:
        return {"ok": False, "error": {"type": "RefusedInput", "message": f"unknown worker job {kind!r}"}}
    try:
        return {"ok": True, "result": handler(job)}
    except KernelFault as exc:  # the CUDA context may be poisoned: never reuse it
        return _fault_reply(str(exc))
    except ProblemError as exc:  # the author's fields travel, so the caller raises the same error
        return {"ok": False, "error": {"type": "ProblemError", "message": str(exc), "fields": exc.fields}}
    except KernelSkillsError as exc:
        return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}
    except BaseException as exc:  # anything else: report, then leave (fresh context next time)
        fault = _fault_behind(exc)
        if fault is not None:
            return _fault_reply(str(fault))
        return _fault_reply(f"the GPU worker failed running {kind!r}: {type(exc).__name__}: {exc}")


def _fault_reply(message: str) -> dict[str, Any]:
    return {"ok": False, "fatal": True, "error": {"type": "KernelFault", "message": message}}


def _fault_behind(exc: BaseException) -> KernelFault | None:
    """The KernelFault that ``exc`` was raised while handling, if any: after a fault, cleanup on
    the way out (leaving a ``torch.cuda.stream`` context) may itself hit the sticky CUDA error."""
    seen: BaseException | None = exc.__context__
    while seen is not None:
        if isinstance(seen, KernelFault):
            return seen
        seen = seen.__context__
    return None


def main() -> int:
    channel = claim_channel()
    handlers = _handlers()
    # A fatal reply is followed by os._exit(1): atexit teardown is skipped in a poisoned context.
    return serve(
        channel, lambda job: _answer(handlers, job), exit_after=lambda reply: bool(reply.get("fatal"))
    )


if __name__ == "__main__":
    sys.exit(main())
