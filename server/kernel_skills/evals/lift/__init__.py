"""The lift eval: each case asked without and with the skill, every answer judged; its runs folder,
its report (JSON, HTML) and the local-model recipe that serves ``make eval``.

The local-model names load on first use (PEP 562), so ``python -m kernel_skills.evals.lift.local_model``
runs that module once, not also as this package's import.
"""

from __future__ import annotations

from kernel_skills import lazy
from kernel_skills.evals.lift.asking import EvalProgress, LiftOptions
from kernel_skills.evals.lift.batch import rejudge_runs, run_batch, run_eval
from kernel_skills.evals.lift.html import render_html
from kernel_skills.evals.lift.models import (
    CONDITIONS,
    BatchReport,
    CaseReport,
    Condition,
    ConditionResult,
    EvalReport,
    KindReport,
    RunResult,
    Totals,
)
from kernel_skills.evals.lift.summary import lift_noise

_LOCAL_MODEL = "kernel_skills.evals.lift.local_model"
_LAZY = {
    name: _LOCAL_MODEL
    for name in (
        "Q4_K_M_FILE_TYPE",
        "prime_or_say_why",
        "prime_slots",
        "read_gguf",
        "running_server",
        "sha256_of",
        "start_server",
        "verify_gguf",
    )
}

__all__ = [
    "CONDITIONS",
    "BatchReport",
    "CaseReport",
    "Condition",
    "ConditionResult",
    "EvalProgress",
    "EvalReport",
    "KindReport",
    "LiftOptions",
    "RunResult",
    "Totals",
    "lift_noise",
    "rejudge_runs",
    "render_html",
    "run_batch",
    "run_eval",
    *sorted(_LAZY),
]


__getattr__ = lazy.exports(__name__, _LAZY)
