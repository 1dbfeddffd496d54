"""Executable assertions: the answer's fenced code, judged by the project's own tools.

The code is every fenced block labelled cuda / cu / cuh / cpp / c++ / cxx / c, or unlabelled,
joined in order (an answer cut off by the token limit keeps its unterminated last block). It is
compiled once with NVRTC for sm_90a (``toolchain.compile_source``); ``kernel``, ``abi``,
``sass_has``, ``no_spills`` and ``lint_clean`` read that compile's report. ``correct`` and
``speedup_at_least`` go through the benchmark path (``dispatch.benchmark``) with the launch the
case states: on a GPU, or on the CPU emulator where the bench offers one; otherwise not judged,
with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kernel_skills.errors import (
    DeviceUnavailable,
    EmulatorUnsupported,
    KernelFault,
    KernelSkillsError,
    RefusedInput,
    Timeout,
)
from kernel_skills.evals.assertions import AssertionOutcome
from kernel_skills.evals.skill_meta import Expected
from kernel_skills.runtime import Runtime

CODE_LABELS = frozenset({"", "cuda", "cu", "cuh", "cpp", "c++", "cxx", "c"})
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+.-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.MULTILINE | re.DOTALL)
COMPILE_OPTIONS = ["-std=c++17"]
# The benchmark's correctness run uses the problem's check-only shapes: small, ragged, enough.
CORRECTNESS_SHAPES = ["ragged"]


def extract_code(answer: str) -> str | None:
    """The answer's CUDA/C++ code blocks joined in order, or None when it has none."""
    blocks = [m.group(2) for m in _FENCE.finditer(answer) if m.group(1).lower() in CODE_LABELS]
    blocks = [b for b in blocks if b.strip()]
    return "\n\n".join(blocks) if blocks else None


def _outcome(name: str, ok: bool, detail: str = "", judged_on: str | None = None) -> AssertionOutcome:
    return AssertionOutcome(
        name=name, status="passed" if ok else "failed", detail=detail, judged_on=judged_on
    )


def _not_judged(names: list[str], why: str) -> list[AssertionOutcome]:
    return [AssertionOutcome(name=n, status="not_judged", detail=why) for n in names]


def _failed_all(names: list[str], why: str) -> list[AssertionOutcome]:
    return [AssertionOutcome(name=n, status="failed", detail=why) for n in names]


def code_outcomes(answer: str, expected: Expected, runtime: Runtime | None = None) -> list[AssertionOutcome]:
    """The code assertions of ``expected`` on ``answer``, compiled and judged with ``runtime`` (None: one
    made for this judgement alone, closed after it)."""
    with Runtime.given_or_new(runtime) as judging:
        return _judged(answer, expected, judging)


def _judged(answer: str, expected: Expected, runtime: Runtime) -> list[AssertionOutcome]:
    from kernel_skills.toolchain import CompileRequest, compile_source

    names = expected.code_assertion_names()
    source = extract_code(answer)
    if source is None:
        return _failed_all(names, "the answer has no ```cuda / ```cpp code block")
    block = expected.launch.block if expected.launch else [256]
    threads = block[0] * (block[1] if len(block) > 1 else 1) * (block[2] if len(block) > 2 else 1)
    try:
        result = compile_source(
            CompileRequest(source=source, arch="sm_90a", options=COMPILE_OPTIONS, block_size=threads),
            toolchain=runtime.toolchain,
        )
    except Timeout as exc:
        return _not_judged(names, f"the compiler timed out: {exc}")
    except KernelSkillsError as exc:  # refused source (size, includes), compiler failure
        return _failed_all(names, f"not compiled: {exc}")
    if not result.ok:
        errors = [d for d in result.diagnostics if d.severity in ("error", "fatal")]
        detail = "; ".join(f"{d.where()}: {d.message}" for d in errors[:3]) or result.log[-300:]
        return _failed_all(names, f"does not compile for sm_90a: {detail}")
    out = _report_outcomes(result, expected)
    if expected.correct:
        kernel = _pick(result.kernels, expected.kernel)
        out += _run_bench(source, expected, kernel.name if kernel else expected.kernel, runtime)
    return out


def _report_outcomes(result, expected: Expected) -> list[AssertionOutcome]:  # type: ignore[no-untyped-def]
    """The assertions the compile's report answers: compiles, kernel, abi, sass_has, no_spills, lint_clean."""
    out: list[AssertionOutcome] = []
    if expected.compiles:
        out.append(_outcome("compiles", True, f"{len(result.kernels)} kernel(s)"))
    kernel = _pick(result.kernels, expected.kernel)
    if expected.kernel:
        found = ", ".join(k.name for k in result.kernels) or "none"
        out.append(
            _outcome(
                f"kernel {expected.kernel}",
                kernel is not None,
                "" if kernel else f'no extern "C" kernel of that name (kernels: {found})',
            )
        )
    if expected.abi:
        out.append(_abi(expected.abi, kernel))
    if expected.sass_has:
        features = _features(result, kernel)
        for f in expected.sass_has:
            out.append(
                _outcome(f"sass_has {f}", f in features, f"SASS features: {sorted(features) or 'none'}")
            )
    if expected.no_spills:
        out.append(_no_spills(kernel))
    if expected.lint_clean:
        findings = [f for f in result.lint if kernel is None or f.kernel in (None, kernel.name)]
        out.append(
            _outcome("lint_clean", not findings, "; ".join(f"{f.rule}: {f.message}" for f in findings))
        )
    return out


def _no_spills(kernel) -> AssertionOutcome:  # type: ignore[no-untyped-def]
    if kernel is None:
        return _outcome("no_spills", False, "no kernel to inspect")
    spills = kernel.spill_stores + kernel.spill_loads
    return _outcome(
        "no_spills", spills == 0, f"{kernel.spill_stores} spill stores, {kernel.spill_loads} spill loads"
    )


def _pick(kernels: list, name: str | None):  # type: ignore[no-untyped-def]
    if name is None:
        return kernels[0] if len(kernels) == 1 else None
    return next((k for k in kernels if k.name == name), None)


def _abi(problem_name: str, kernel) -> AssertionOutcome:  # type: ignore[no-untyped-def]
    from kernel_skills.bench import check_abi, load_registry

    name = f"abi {problem_name}"
    if kernel is None:
        return _outcome(name, False, "no kernel to check (name it with 'kernel', or define exactly one)")
    problem = load_registry().get(problem_name)
    if kernel.param_sizes is None:
        return AssertionOutcome(name=name, status="not_judged", detail="the compiler gave no parameter sizes")
    try:
        check = check_abi(problem, kernel.param_sizes, kernel.name)
    except RefusedInput as exc:
        return _outcome(name, False, str(exc))
    return _outcome(name, check.passed, check.detail)


def _features(result, kernel) -> set[str]:  # type: ignore[no-untyped-def]
    if result.sass is None:
        return set()
    if kernel is not None:
        for k in result.sass.per_kernel:
            if k.name == kernel.name:
                return set(k.features)
    return set(result.sass.features)


def _bench_request(source: str, expected: Expected, kernel: str | None, *, timed: bool):  # type: ignore[no-untyped-def]
    from kernel_skills.bench import BenchRequest

    assert expected.launch is not None and expected.correct is not None
    fields: dict[str, object] = {
        "problem": expected.correct,
        "source": source,
        "kernel": kernel,
        "block": expected.launch.block,
        "grid": expected.launch.grid,
        "shared_mem": expected.launch.shared_mem,
        "options": COMPILE_OPTIONS,
        "quick": True,
    }
    if not timed:
        fields["shapes"] = CORRECTNESS_SHAPES
    # Correctness: the GPU where one is usable, else the CPU emulator (the outcome says which).
    fields["device"] = "gpu" if timed else "auto"
    return BenchRequest(**fields)


Benchmark = Callable[..., object]


def _run_bench(
    source: str, expected: Expected, kernel: str | None, runtime: Runtime
) -> list[AssertionOutcome]:
    from kernel_skills.dispatch import benchmark

    correct_name = f"correct {expected.correct}"
    speed_name = f"speedup_at_least {expected.speedup_at_least}" if expected.speedup_at_least else None
    names = [correct_name] + ([speed_name] if speed_name else [])
    try:
        result = benchmark(
            _bench_request(source, expected, kernel, timed=False), runtime=runtime, store=False
        )
    except DeviceUnavailable as exc:  # neither a GPU nor a usable emulator (no g++, no Landlock)
        return _not_judged(names, f"no device to run it on: {exc}")
    except EmulatorUnsupported as exc:  # NVRTC took it; only a GPU can say whether it is correct
        return _not_judged(names, f"the CPU emulator cannot run this kernel (a GPU can): {exc}")
    except (RefusedInput, KernelFault, Timeout) as exc:
        # The answer's fault: an ABI mismatch or a launch over the limits, a kernel that faulted
        # (out of bounds, trap, forbidden system call) or hung.
        return _failed_all(names, str(exc))
    except KernelSkillsError as exc:  # the tools themselves failed: not the answer's verdict
        return _not_judged(names, f"benchmark failed: {exc}")
    verified_on = result.verified_on or "gpu"
    failed = [c for c in result.checks if not c.passed]
    detail = "; ".join(f"{c.name}: {c.detail}" for c in failed[:3]) or "every correctness check passed"
    out = [_outcome(correct_name, result.correct, detail, judged_on=verified_on)]
    if speed_name:
        out.append(_speedup(source, expected, kernel, speed_name, verified_on, result.correct, runtime))
    return out


def _speedup(  # type: ignore[no-untyped-def]
    source: str,
    expected: Expected,
    kernel: str | None,
    name: str,
    verified_on: str,
    correct: bool,
    runtime: Runtime,
) -> AssertionOutcome:
    from kernel_skills.dispatch import benchmark

    if verified_on != "gpu":
        return AssertionOutcome(
            name=name, status="not_judged", detail=f"needs a GPU (correctness ran on {verified_on})"
        )
    if not correct:
        return _outcome(name, False, "not correct, so not timed")
    try:
        result = benchmark(_bench_request(source, expected, kernel, timed=True), runtime=runtime, store=False)
    except KernelSkillsError as exc:
        return AssertionOutcome(name=name, status="not_judged", detail=f"timing failed: {exc}")
    speedup = result.speedup.get("torch_eager")
    if speedup is None:
        return AssertionOutcome(name=name, status="not_judged", detail="no torch_eager speedup in the result")
    target = expected.speedup_at_least or 0.0
    return _outcome(
        name, speedup >= target, f"{speedup:.2f}x vs torch_eager (needs {target}x)", judged_on="gpu"
    )
