"""What the server tells an agent to do, for the machine it runs on: the ``instructions`` and the loop
the prompts give. Where verdicts come from is probed once when the server is built, cheaply (the
local executor looks for the driver library and a device node; a Ray pool is not contacted), and
every result says where it was judged anyway (``verified_on``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from kernel_skills.errors import DeviceUnavailable

if TYPE_CHECKING:
    from kernel_skills.executors import Executor

Where = Literal["gpu", "emulator", "ray"]

SKILLS = """\
kernel-skills serves Agent Skills and tools to compile and judge H100 (sm_90a) CUDA kernels.
Skills: the catalog lists only each skill's name and description (resources/list, skills/list, or the \
list_skills tool). When a description fits the task, load that skill's SKILL.md (resources/read \
skill://<name>/SKILL.md, or get_skill(name)) and follow it. Read a reference file (skill://<name>/<path>, \
or read_skill_file(name, path)) only when the SKILL.md points you to it, never all up front. Skills \
hot-reload: after a list_changed notification, list again.
Kernels: start with skill://h100-cuda-kernels/SKILL.md. Loop compile_kernel (NVRTC, no GPU) until it \
compiles with no errors and no lint findings, then benchmark_kernel on a problem from list_problems. """

LOOPS: dict[Where, str] = {
    "gpu": "Verdicts here run on a GPU: correctness on fresh seeds, then the median time, the speedup over "
    "PyTorch and the roofline fraction; keep a change only if the median drops and every check passes.",
    "emulator": "This machine has no GPU: benchmark_kernel judges on the CPU emulator — correctness on "
    "every CUDA thread, races and out-of-bounds with their line, counters with ranked findings and an "
    "H100 estimate (a model, never a measured time). Fix failed checks first, then the first finding; "
    "keep a change if the estimate drops. Pass source or compile_id; do not claim a measured speed.",
    "ray": "Verdicts run on a Ray pool: on its GPUs when it has them (median time, speedup, roofline), "
    "else on the CPU emulator (correctness, counters, findings and an H100 estimate, a model); each "
    "result's verified_on says which.",
}


def verdicts_where(executor: Executor) -> Where:
    """Where benchmark_kernel's verdicts come from with ``executor`` (a cheap probe, see module doc)."""
    if executor.kind == "ray":
        return "ray"
    try:
        executor.require_device()
    except DeviceUnavailable:
        return "emulator"
    return "gpu"


def instructions(where: Where, missing: list[str] | None = None) -> str:
    text = SKILLS + LOOPS[where]
    if missing:
        text += "\nNot working on this machine (benchmark_kernel will say so): " + "; ".join(missing)
    return text


def missing_here() -> list[str]:
    """What the verdicts need that this machine lacks (``kernel-skills doctor``'s cheap checks: torch
    for the references, g++ for the emulator's engine), each with its fix."""
    from kernel_skills.doctor import check_gxx, check_torch

    return [f"{c.name}: {c.detail} (fix: {c.fix})" for c in (check_torch(), check_gxx()) if c.status != "ok"]


def benchmark_steps(where: Where, problem: str) -> str:
    """Steps 5 and 6 of the write_kernel prompt: the benchmark loop that works here."""
    call = f'benchmark_kernel(problem="{problem}", compile_id=<from compile_kernel>, block=[...], grid=[...])'
    if where == "emulator":
        return f"""\
5. Call {call}. This machine has no GPU: the CPU emulator judges it (never timed). Fix every failed
   check first; then iterate on the first of its counters' findings (each names a line and links the
   skill) and keep a change only if the H100 estimate drops (a model, not a measurement).
6. Report only what a benchmark_kernel result says: correct or not, the estimate named as an
   estimate, the findings left, and the result_id."""
    return f"""\
5. Call {call}. Fix every failed check before tuning; then tune against the roofline fraction it
   reports (a result verified on the CPU emulator instead has counters' findings and an H100 estimate,
   a model).
6. Report only what a benchmark_kernel result says: correct or not, median time, speedup over torch
   eager, fraction of the roofline, and the result_id."""


__all__ = ["LOOPS", "Where", "benchmark_steps", "instructions", "missing_here", "verdicts_where"]
