"""Task cases a recorded session proves: each problem it benchmarked, launched the way it launched it.

A generated skill's task cases need the exact kernel signature and launch configuration, which a
teacher model easily gets wrong and the trace already holds: the benchmark's problem (its signature
comes from the problem registry) and the block, grid and shared memory the agent used. The last
correct benchmark of each problem wins; without one, its last benchmark.
"""

from __future__ import annotations

from kernel_skills.traces import BenchRecord, Trace

TASK_PROMPT = (
    "Write the CUDA kernel for the benchmark problem `{problem}`: {description}. Use exactly this "
    'signature: extern "C" __global__ void {kernel}{signature}. The harness launches it with block '
    "({block}) and grid ({grid}){shared}. It is compiled with NVRTC for sm_90a as device code only: "
    "include <cuda_bf16.h>, no host code, no main. Answer with the whole kernel in one ```cuda code block."
)


def _dims(values: list, fill: str) -> str:
    return ", ".join(str(v) for v in [*values, *[fill] * (3 - len(values))][:3])


def _launches(traces: list[Trace]) -> dict[str, BenchRecord]:
    chosen: dict[str, BenchRecord] = {}
    for trace in traces:
        for event in trace.events:
            b = event.benchmark
            if b is None or not event.ok or not b.block or not b.grid:
                continue
            if b.correct or not (b.problem in chosen and chosen[b.problem].correct):
                chosen[b.problem] = b
    return chosen


def trace_task_cases(traces: list[Trace]) -> list[dict]:
    """skill_meta.json cases (plain dicts) for the registered problems the traces benchmarked."""
    from kernel_skills.bench import load_registry

    registry = load_registry()
    cases = []
    for name, b in _launches(traces).items():
        if name not in registry.problems:
            continue  # a problem file of the recording machine that this one does not have
        problem = registry.get(name)
        kernel = b.kernel or name
        shared = f", {b.shared_mem} bytes of dynamic shared memory" if str(b.shared_mem) != "0" else ""
        prompt = TASK_PROMPT.format(
            problem=name,
            description=problem.description.rstrip("."),
            kernel=kernel,
            signature=problem.signature,
            block=_dims(b.block, "1"),
            grid=_dims(b.grid, "1"),
            shared=shared,
        )
        expected = {
            "compiles": True,
            "kernel": kernel,
            "abi": name,
            "no_spills": True,
            "correct": name,
            "launch": {"block": b.block, "grid": b.grid, "shared_mem": str(b.shared_mem)},
        }
        cases.append({"input": prompt, "expected": expected})
    return cases
