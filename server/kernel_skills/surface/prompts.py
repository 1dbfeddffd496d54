"""MCP prompts: the server's workflow as prompt templates (slash commands in Claude Code).

- ``write_kernel(problem)``: the problem's exact signature, shapes and tolerance, then the
  skill -> compile_kernel -> benchmark_kernel loop.
- ``optimise_kernel(attempt)``: where an earlier attempt stands (a stored benchmark result or a
  compile report) and what to read and try next.
- ``review_skill(name)``: a served (or invalid) skill's validation findings and a review checklist.

Each prompt renders from live data (problem registry, results database, compile cache, catalog), so
the instructions an agent gets name real ids and numbers. Unknown prompt names, unknown or missing
arguments and arguments that name nothing (an unknown problem, result or skill) are JSON-RPC -32602
with a message that says what is accepted. Arguments arrive as strings (MCP prompt arguments are).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    PaginatedRequestParams,
    Prompt,
    PromptArgument,
    PromptMessage,
    TextContent,
)

from kernel_skills.errors import KernelSkillsError, RefusedInput
from kernel_skills.surface import sdk
from kernel_skills.surface.errors import invalid_params, protocol_error
from kernel_skills.surface.guidance import Where, benchmark_steps
from kernel_skills.surface.index import skill_uri

if TYPE_CHECKING:
    from pathlib import Path

    from kernel_skills.bench import BenchResult, KernelInfo, ProblemRegistry
    from kernel_skills.catalog import Catalog
    from kernel_skills.surface.state import SkillsState
    from kernel_skills.toolchain import CompileResult

KERNEL_SKILL = "h100-cuda-kernels"
_COMPILE_ID = re.compile(r"[0-9a-f]{32}")
_MAX_ARGUMENT = 4096  # characters; no legitimate argument of these prompts comes close


@dataclass(frozen=True)
class PromptArg:
    name: str
    description: str


@dataclass(frozen=True)
class PromptDef:
    name: str
    title: str
    description: str
    arguments: tuple[PromptArg, ...]

    def wire(self) -> Prompt:
        return Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[
                PromptArgument(name=a.name, description=a.description, required=True) for a in self.arguments
            ],
        )


WRITE_KERNEL = PromptDef(
    name="write_kernel",
    title="Write an H100 kernel for a benchmark problem",
    description=(
        "Write a correct, fast CUDA kernel for one of the server's benchmark problems: the problem's exact "
        "signature, shapes and tolerance, then the skill -> compile_kernel -> benchmark_kernel loop."
    ),
    arguments=(PromptArg("problem", "a benchmark problem name (list_problems), e.g. rmsnorm"),),
)
OPTIMISE_KERNEL = PromptDef(
    name="optimise_kernel",
    title="Optimise an earlier kernel attempt",
    description=(
        "Take an earlier attempt further: where it stands (correctness, time, speedup, roofline, registers, "
        "lint) and what to read and try next."
    ),
    arguments=(
        PromptArg(
            "attempt",
            "a benchmark result id (result_id from benchmark_kernel or id from list_results) or a "
            "compile_id from compile_kernel (32 hex characters)",
        ),
    ),
)
REVIEW_SKILL = PromptDef(
    name="review_skill",
    title="Review a skill",
    description=(
        "Review one skill folder the server serves (or failed to serve): its validation findings, size and "
        "files, and a checklist for a description, body and references that an agent can use."
    ),
    arguments=(PromptArg("name", "a skill name from list_skills (served or listed as invalid)"),),
)
PROMPTS: dict[str, PromptDef] = {p.name: p for p in (WRITE_KERNEL, OPTIMISE_KERNEL, REVIEW_SKILL)}


def prompt_def(name: str) -> PromptDef:
    """The prompt called ``name``, or -32602 naming the ones that exist."""
    found = PROMPTS.get(name)
    if found is None:
        raise invalid_params(f"unknown prompt {name!r}; this server offers: {', '.join(PROMPTS)}", name=name)
    return found


def check_arguments(prompt: PromptDef, arguments: dict[str, str] | None) -> dict[str, str]:
    """Every argument present, non-empty and known; -32602 saying which one is wrong otherwise."""
    given = dict(arguments or {})
    known = {a.name for a in prompt.arguments}
    unknown = sorted(set(given) - known)
    if unknown:
        raise invalid_params(
            f"prompt {prompt.name!r} has no argument {unknown[0]!r}; "
            f"its arguments: {', '.join(sorted(known))}",
            prompt=prompt.name,
        )
    for arg in prompt.arguments:
        value = given.get(arg.name, "").strip()
        if not value:
            raise invalid_params(
                f"prompt {prompt.name!r} needs the argument {arg.name!r}: {arg.description}",
                prompt=prompt.name,
            )
        if len(value) > _MAX_ARGUMENT:
            raise invalid_params(
                f"argument {arg.name!r} of prompt {prompt.name!r} is {len(value)} characters; "
                f"at most {_MAX_ARGUMENT} are accepted",
                prompt=prompt.name,
            )
        given[arg.name] = value
    return given


# --- rendering (plain functions over domain objects; each returns the prompt's text) ----------------


def render_write_kernel(
    registry: ProblemRegistry, problem_name: str, *, skill_served: bool, where: Where = "gpu"
) -> str:
    from kernel_skills.bench import problem_info

    info = problem_info(registry.get(problem_name))
    shapes = "\n".join(
        f"  - {set_name}: " + "; ".join(", ".join(f"{k}={v}" for k, v in shape.items()) for shape in group)
        for set_name, group in info.shapes.items()
    )
    tolerance = ", ".join(f"{dtype}: atol {a:g}, rtol {r:g}" for dtype, (a, r) in info.tolerance.items())
    skill = (
        f"Read {skill_uri(KERNEL_SKILL)} (resources/read, or get_skill({KERNEL_SKILL!r})) and follow its "
        "workflow; open one of its reference files only when the SKILL.md points you to it."
        if skill_served
        else f"The {KERNEL_SKILL} skill is not served here; call list_skills and load a skill whose "
        "description fits, if any."
    )
    return f"""\
Write a CUDA C++ kernel for the benchmark problem `{info.name}` that is correct and fast on an H100 (sm_90a).

Problem: {info.description}
Exact kernel signature (name the kernel as you like; the parameters must match in order and type):
  {info.signature}
Outputs (written by the kernel): {", ".join(info.outputs) or "none"}
Parameters (read-only inputs fixed per shape, like weights): {", ".join(info.parameters) or "none"}
Size variables (usable in grid and shared_mem expressions): {", ".join(info.size_variables)}
Shape sets:
{shapes}
Timed shape sets: {", ".join(info.timed_shape_sets) or "none"} (the others are checked, not timed)
Tolerance: {tolerance or "exact"}

How to work:
1. {skill}
2. Call list_results(problem="{info.name}") first: earlier attempts and their numbers are there.
3. Work out the floor before writing code: bytes moved / ~3.0 TB/s and FLOPs / ~989 TFLOP/s (bf16 dense);
   the larger one is the time to beat.
4. Write the simplest correct kernel first (extern "C", fp32 accumulation), then call compile_kernel with
   block_size (and shared_mem) until there are no errors, no spills, no local memory and no lint findings.
{benchmark_steps(where, info.name)}
"""


def render_optimise_result(result: BenchResult, result_id: int) -> str:
    lines = [f"Optimise the kernel of benchmark result {result_id} (problem `{result.problem}`)."]
    if result.kernel is not None:
        lines.append(_kernel_line(result.kernel))
    lines += _correctness_lines(result)
    lines += _performance_lines(result)
    if result.device is not None:
        emulated = getattr(result, "verified_on", None) == "cpu-emulator"
        lines.append(
            f"Measured on {result.device.name}"
            + (" (verified on the CPU emulator)" if emulated else "")
            + "."
        )
    if result.warnings:
        lines.append("Warnings: " + "; ".join(result.warnings[:4]))
    if result.counters is not None:
        lines += counter_lines(result)
    compute_bound = result.roofline is not None and result.roofline.bound != "memory"
    reference = "hopper-features.md" if compute_bound else "memory-bound-kernels.md"
    if result.time_us is None and result.counters is not None:
        lines.append(optimise_by_counters(result.problem, reference))
    else:
        lines.append(_next_steps(result.problem, reference))
    return "\n".join(lines) + "\n"


def _kernel_line(kernel: KernelInfo) -> str:
    """The compiled kernel's resources: registers, spills, static shared memory."""
    return (
        f"Kernel `{kernel.name}`: {kernel.registers} registers, "
        f"spills {kernel.spill_stores}/{kernel.spill_loads} "
        f"(stores/loads), {kernel.shared_bytes} B static shared memory"
        + (f", compile_id {kernel.compile_id}" if kernel.compile_id else "")
        + "."
    )


def _correctness_lines(result: BenchResult) -> list[str]:
    """Correct, or the first failed checks to fix before anything else."""
    if result.correct:
        return ["It passed every correctness check."]
    failed = [c for c in result.checks if not c.passed]
    return [
        "It is NOT correct. Failed checks (fix these first; speed does not count until they pass):",
        *(f"  - {c.name}: {c.detail}" for c in failed[:8]),
    ]


def _performance_lines(result: BenchResult) -> list[str]:
    """The median time and speedup, the achieved rates and the roofline, where measured."""
    lines: list[str] = []
    if result.time_us is not None:
        timing = f"Median {result.time_us.median:.2f} us over {result.time_us.n} runs"
        eager = result.baseline_us.get("torch_eager")
        if eager is not None:
            timing += f"; torch eager {eager.median:.2f} us"
        if "torch_eager" in result.speedup:
            timing += f" (speedup {result.speedup['torch_eager']:.2f}x)"
        lines.append(timing + ".")
    if result.achieved is not None:
        lines.append(f"Achieved {result.achieved.gbps:.0f} GB/s and {result.achieved.tflops:.1f} TFLOP/s.")
    roofline = result.roofline
    if roofline is not None:
        text = f"Roofline: {roofline.bound}-bound, floor {roofline.floor_us:.2f} us"
        if roofline.fraction_of_peak is not None:
            text += f", {100 * roofline.fraction_of_peak:.0f}% of the hardware limit"
        lines.append(text + ".")
    return lines


def _next_steps(problem: str, reference: str) -> str:
    """The measured-kernel loop: compare, read ``reference``, change one thing, re-benchmark."""
    return f"""
Next:
1. Compare with list_results(problem="{problem}") to see the best attempt so far.
2. Read skill://{KERNEL_SKILL}/references/{reference} for this kind of kernel, and
   skill://{KERNEL_SKILL}/references/reading-reports.md to read the compile report.
3. Change one thing at a time; compile_kernel it (registers, spills, sass features, lint), then
   benchmark_kernel with the same problem, block and grid, and keep the change only if the median drops
   and every check still passes.
4. Stop when the roofline fraction stops improving; report the result_id of your best attempt."""


def counter_lines(result: BenchResult) -> list[str]:
    """The emulator's counters in a few lines: traffic, waves, the estimate, the findings by cost."""
    c = result.counters
    if c is None:
        return []
    text = f"Counters (CPU emulator, one launch at {c.shape}): traffic {c.traffic_vs_ideal}x the ideal bytes"
    text += (
        f" ({c.unique_traffic_vs_ideal}x distinct), {c.shared.bank_conflicts} shared-memory bank conflicts"
    )
    if c.launch is not None:
        text += f", {c.launch.waves_on_h100:g} waves on 132 SMs at {c.launch.shape}"
    lines = [text + "."]
    e = result.estimate
    if e is not None:
        fraction = f", {100 * e.fraction_of_peak:.0f}% of the roofline" if e.fraction_of_peak else ""
        measured = f"; measured {e.measured_us:.2f} us" if e.measured_us is not None else ""
        lines.append(
            f"H100 estimate: {e.time_us:.2f} us, {e.bound}-bound{fraction} (a model from the counters, "
            f"not a measurement{measured})."
        )
    if c.findings:
        lines.append("Findings, most costly first (each links its section of the skill):")
        lines += [f"  - {f.message} (see {f.doc})" for f in c.findings[:6]]
    else:
        lines.append("The counters show no finding.")
    return lines


def optimise_by_counters(problem: str, reference: str) -> str:
    """Next steps where no GPU timed the kernel: iterate on the counters, not on a median."""
    return f"""
Next (no GPU timed this kernel: there is no median; iterate on the counters):
1. Compare with list_results(problem="{problem}") to see the best attempt so far.
2. Fix the biggest finding first; read the skill section it links, and
   skill://{KERNEL_SKILL}/references/{reference} for this kind of kernel.
3. Change one thing at a time; benchmark_kernel again with the same problem, block and grid, and keep
   the change only if every check still passes and the counters improve (the finding is gone, traffic
   closer to 1.0x, fewer bank conflicts, a lower estimate).
4. Stop when no finding is left and the estimate is near the roofline floor; report the result_id of
   your best attempt, and say that its time is an estimate (timing needs a GPU)."""


def render_optimise_compile(report: CompileResult, compile_id: str) -> str:
    lines = [f"Take the kernel of compile {compile_id} further (compiled for {report.arch})."]
    errors = [d for d in report.diagnostics if d.severity in ("error", "fatal")]
    if not report.ok or errors:
        lines.append("It did not compile; errors:")
        lines += [f"  - {d.where()}: {d.message}" for d in errors[:8]]
    for k in report.kernels:
        text = (
            f"Kernel `{k.name}`: {k.registers} registers, spills {k.spill_stores}/{k.spill_loads}, "
            f"stack {k.stack_bytes} B, static shared {k.shared_bytes} B"
        )
        if k.occupancy is not None:
            text += (
                f", occupancy {100 * k.occupancy.occupancy:.0f}% at {k.occupancy.block_size} threads "
                f"(limited by {k.occupancy.limited_by})"
            )
        lines.append(text + ".")
    if report.sass is not None:
        lines.append("SASS features: " + (", ".join(report.sass.features) or "none") + ".")
    if report.lint:
        lines.append("Lint findings (each links to its section of the skill):")
        lines += [f"  - {f.rule}: {f.message} (see {f.doc})" for f in report.lint[:8]]
    lines.append(
        f"""
Next:
1. Fix what the report shows first: errors, spills, stack or local memory, then each lint finding
   (skill://{KERNEL_SKILL}/references/reading-reports.md explains every field).
2. Benchmark it: benchmark_kernel(problem=<problem name>, compile_id="{compile_id}", block=[...], grid=[...]);
   only a benchmark result says whether it is correct and how fast.
3. Then tune against the roofline fraction the benchmark reports (without a GPU: its counters' findings
   and H100 estimate), one change at a time."""
    )
    return "\n".join(lines) + "\n"


def render_review_skill(catalog: Catalog, name: str) -> str:
    from kernel_skills.catalog import Issue

    def issues(title: str, found: list[Issue]) -> list[str]:
        return [f"{title}:"] + [f"  - {i.field}: {i.message}" for i in found] if found else []

    served = next((s for s in catalog.skills() if s.name == name), None)
    if served is not None:
        lines = [
            f"Review the skill `{served.name}` at {catalog.shown(served.location)}.",
            f"Description ({served.tokens.description} tokens): {served.description}",
            f"SKILL.md body: about {served.tokens.body} tokens; {len(served.files)} files.",
        ]
        if served.stale:
            lines.append("Its files on disk are currently INVALID; clients get its last valid version.")
        lines += issues("Validation errors on disk", served.stale_errors)
        lines += issues("Warnings", served.warnings)
        lines.append("Files: " + ", ".join(sorted(f.path for f in served.files)))
        lines.append(f"Load it with get_skill({served.name!r}) (or resources/read {skill_uri(served.name)}).")
    else:
        bad = next((i for i in catalog.invalid() if i.name == name), None)
        if bad is None:
            known = [s.name for s in catalog.skills()] + [i.name for i in catalog.invalid() if i.name]
            raise RefusedInput(
                f"no skill named {name!r} is served or listed as invalid; known: {', '.join(known) or 'none'}"
            )
        where = catalog.shown(bad.location)
        lines = [f"Review the skill folder at {where}: it is NOT served because it is invalid."]
        lines += issues("Validation errors", bad.errors)
        lines += issues("Warnings", bad.warnings)
        lines.append("Fix the errors first (kernel-skills skills validate <folder> shows them again).")
    lines.append(
        """
Review checklist:
1. Description: says what the skill does AND when to use it (and when not), in words a task would
   contain; it is all an agent sees before deciding to load the skill.
2. Body: a workflow an agent can follow step by step, short enough to load whole (under ~5,000 tokens);
   details belong in reference files that the body links to, each link saying when to open it.
3. Facts: every figure and API name checkable; examples that compile (compile_kernel) and, for kernels,
   pass benchmark_kernel.
4. Measure the skill's lift before and after a change: kernel-skills eval <skill folder> --model <model>.
Report each finding with the file and line, and a concrete fix."""
    )
    return "\n".join(lines) + "\n"


# --- wiring ---------------------------------------------------------------------------------------


class PromptSources:
    """What the prompts read: the catalog (through the server state), the problem registry and the
    results DB (``db``: the server's runtime's; None follows ``results_db.db_path()``)."""

    def __init__(
        self,
        state: SkillsState,
        problems: Callable[[], ProblemRegistry],
        *,
        where: Where = "gpu",
        db: Callable[[], Path] | None = None,
    ) -> None:
        self.state = state
        self.problems = problems
        self.where = where
        self._db = db

    def db_path(self) -> Path | None:
        """The results DB to read (None: ``results_db.db_path()``)."""
        return self._db() if self._db is not None else None

    async def render(self, prompt: PromptDef, args: dict[str, str]) -> str:
        if prompt is WRITE_KERNEL:
            catalog = await self.state.get_catalog()
            served = any(s.name == KERNEL_SKILL for s in catalog.skills())
            return await anyio.to_thread.run_sync(
                lambda: render_write_kernel(
                    self.problems(), args["problem"], skill_served=served, where=self.where
                )
            )
        if prompt is OPTIMISE_KERNEL:
            return await anyio.to_thread.run_sync(lambda: render_optimise(args["attempt"], db=self.db_path()))
        catalog = await self.state.get_catalog()
        return render_review_skill(catalog, args["name"])


def render_optimise(attempt: str, *, db: Path | None = None) -> str:
    from kernel_skills.bench import get_result
    from kernel_skills.toolchain import stored_report

    if _COMPILE_ID.fullmatch(attempt):
        report = stored_report(attempt)
        if report is None:
            raise RefusedInput(
                f"no stored compile {attempt} (the compile cache keeps the newest entries only); "
                "compile the source again with compile_kernel"
            )
        return render_optimise_compile(report, attempt)
    if attempt.isdigit() and len(attempt) <= 18:  # a SQLite integer id
        result_id = int(attempt)
        result = get_result(result_id, path=db)
        if result is None:
            raise RefusedInput(
                f"no stored benchmark result {result_id}; "
                "list_results(problem) shows the ids of stored attempts"
            )
        return render_optimise_result(result, result_id)
    raise RefusedInput(
        f"attempt {attempt[:80]!r} is neither a benchmark result id (an integer) nor a compile_id "
        "(32 lowercase hex characters)"
    )


def register(server: MCPServer, sources: PromptSources) -> None:
    async def list_prompts(
        ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> ListPromptsResult:
        del ctx, params
        return ListPromptsResult(prompts=[p.wire() for p in PROMPTS.values()])

    async def get_prompt(
        ctx: ServerRequestContext[Any, Any], params: GetPromptRequestParams
    ) -> GetPromptResult:
        del ctx
        prompt = prompt_def(params.name)
        args = check_arguments(prompt, params.arguments)
        try:
            text = await sources.render(prompt, args)
        except KernelSkillsError as exc:
            raise protocol_error(exc, prompt=prompt.name) from exc
        return GetPromptResult(
            description=prompt.description,
            messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
        )

    low = sdk.lowlevel(server)
    low.add_request_handler("prompts/list", PaginatedRequestParams, list_prompts)
    low.add_request_handler("prompts/get", GetPromptRequestParams, get_prompt)
