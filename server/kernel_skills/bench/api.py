"""The small domain functions behind ``list_problems``, ``list_results`` and ``calibrate``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel_skills.bench import calibration, results_db
from kernel_skills.bench.estimate import fit
from kernel_skills.bench.expr import ACCEPTED
from kernel_skills.bench.judge import HELLO_TIMEOUT_S
from kernel_skills.bench.models import (
    Calibration,
    DeviceInfo,
    EstimateModel,
    ProblemInfo,
    ProblemList,
    ResultList,
)
from kernel_skills.bench.registry import ProblemRegistry, load_registry
from kernel_skills.bench.spec import Problem
from kernel_skills.bench.verdicts import timed_shapes


def problem_info(problem: Problem) -> ProblemInfo:
    timed = dict.fromkeys(name for name, _ in timed_shapes(problem.shape_list()))
    return ProblemInfo(
        name=problem.name,
        description=problem.description,
        signature=f'extern "C" __global__ void KERNEL{problem.signature}',
        size_variables=list(problem.size_names),
        inputs=[p.name for p in problem.inputs],
        parameters=[p.name for p in problem.params],
        outputs=[p.name for p in problem.outputs],
        shapes=problem.shapes,
        tolerance=problem.tolerance,
        timed_shape_sets=list(timed),
        emulator_shapes=list(problem.emulator_shapes),
        device_shapes={
            "gpu": f"every set in shapes (or those requested); timed: {', '.join(timed)}",
            "cpu-emulator": (
                f"the {len(problem.emulator_shapes)} emulator_shapes, correctness only"
                + (
                    " (derived from shapes: the problem declares no EMULATOR_SHAPES)"
                    if problem.emulator_shapes_derived
                    else ""
                )
            ),
        },
        origin=problem.module_path or "bundled",
        origin_kind=problem.kind,
    )


def list_problems(
    registry: ProblemRegistry | None = None,
    problems_dirs: list[Path] | None = None,
    *,
    name: str | None = None,
) -> ProblemList:
    """Every problem, or only ``name`` (unknown names are refused with the list of problems)."""
    registry = registry or load_registry(problems_dirs)
    names = [registry.get(name).name] if name is not None else registry.names()
    return ProblemList(
        problems=[problem_info(registry.problems[n]) for n in names],
        invalid=[{"path": p.path, "error": p.error} for p in registry.invalid],
        expression_syntax=f"grid and shared_mem are expressions over the size variables: {ACCEPTED}",
    )


def list_results(
    problem: str,
    *,
    limit: int = results_db.DEFAULT_LIMIT,
    registry: ProblemRegistry | None = None,
    db: Path | None = None,
) -> ResultList:
    """Stored attempts for a problem, best first (accepted, then correct, then fastest), from the results
    DB ``db`` (None: ``results_db.db_path()``)."""
    (registry or load_registry()).get(problem)  # unknown names are refused with the list of problems
    return results_db.list_results(problem, limit=limit, path=db)


def calibrate_device(worker: Any, *, force: bool = True) -> Calibration:
    """Measure (or with ``force=False`` reuse) the copy bandwidth and bf16 matmul rate of a leased GPU
    worker's device (anything with ``request(job, timeout_s=, what=)``)."""
    device = worker.request({"kind": "hello"}, timeout_s=HELLO_TIMEOUT_S, what="GPU worker start-up")[
        "device"
    ]
    found = None if force else calibration.cached(DeviceInfo.model_validate(device))
    return found or calibration.measure(worker)


def refit_estimate() -> EstimateModel:
    """Refit the emulator's H100 estimate (``bench.estimate.fit``) to every stored GPU result that
    carries an estimate of the same kernel (``bench --counters``), save it and return it; unchanged
    when there is none."""
    current = calibration.estimate_model()
    pairs = results_db.estimate_pairs()
    if not pairs:
        return current
    fitted = fit(pairs, current, datetime.now(UTC).isoformat(timespec="seconds"))
    calibration.save_estimate_model(fitted)
    return fitted


__all__ = ["calibrate_device", "list_problems", "list_results", "problem_info", "refit_estimate"]
