"""Jobs the GPU worker runs: hello, calibrate, check, time_kernel, time_baseline.

Only the worker process imports this (torch and CuPy load here). The server has already parsed
and validated everything: a job carries the cubin, the kernel name, the problem, concrete sizes,
the resolved launch (grid, block, shared bytes) and fresh seeds.

Defenses (see notes/kernel-harness.md): outputs poisoned before every launch (NaN, and the
largest finite value for the determinism re-run); the whole device synchronized after every
launch; inputs compared bit for bit with a pristine copy afterwards; the reference computed only
after the kernel ran (it is never on the device while the kernel runs); new data at the same
pointers and fresh pointers across seeds; timed runs rotate two input sets, re-poison the outputs
before each call and compare them after with the correctness rule (the problem's tolerances).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from kernel_skills import paths
from kernel_skills.bench import authored
from kernel_skills.bench.checking import (
    Harness,
    check_shape,
    kernel_args,
    poison,
    prepare_timing_sets,
    timed_mismatches,
    verify_timed_outputs,
)
from kernel_skills.bench.compare import compare
from kernel_skills.bench.registry import load_problem_in_worker
from kernel_skills.bench.spec import Problem
from kernel_skills.bench.stats import CAP_MS
from kernel_skills.bench.timing import time_gpu
from kernel_skills.errors import DeviceUnavailable, KernelFault, RefusedInput


@dataclass
class _Env:
    torch: Any
    cupy: Any
    stream: Any
    cupy_stream: Any
    flush: Any
    device: dict[str, Any]


_ENV: _Env | None = None
_MODULES: dict[str, Any] = {}
_PROBLEMS: dict[tuple[str, str | None], Problem] = {}


def _env() -> _Env:
    global _ENV
    if _ENV is not None:
        return _ENV
    try:
        import torch
    except ImportError as exc:
        raise DeviceUnavailable(
            "torch is not installed in the server's environment (pip install 'kernel-skills[gpu]')"
        ) from exc
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            "no CUDA device: torch.cuda.is_available() is False on this machine "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); benchmarking needs an "
            "NVIDIA GPU"
        )
    try:
        import cupy
    except ImportError as exc:
        raise DeviceUnavailable(
            "cupy is not installed (pip install 'kernel-skills[gpu]', i.e. cupy-cuda13x)"
        ) from exc
    matmul = torch.backends.cuda.matmul  # references are float32 math, not TF32
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9 (setting allow_tf32 there warns)
        matmul.fp32_precision = "ieee"
    else:
        matmul.allow_tf32 = False
    torch.cuda.set_device(0)
    props = torch.cuda.get_device_properties(0)
    l2_bytes = int(
        getattr(props, "L2_cache_size", 0) or cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    )
    stream = torch.cuda.Stream()
    flush = torch.empty(max(2 * l2_bytes, 1 << 20), dtype=torch.uint8, device="cuda")
    driver = cupy.cuda.runtime.driverGetVersion()
    device = {
        "name": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "sm_count": props.multi_processor_count,
        "l2_bytes": l2_bytes,
        "memory_bytes": props.total_memory,
        "uuid": str(getattr(props, "uuid", "")),
        "driver": f"{driver // 1000}.{(driver % 1000) // 10}",
        "cuda_runtime": torch.version.cuda,
        "torch": torch.__version__,
        "cupy": cupy.__version__,
        "flush_bytes": flush.numel(),
        "nvidia_driver": _nvidia_driver_version(),
    }
    _ENV = _Env(torch, cupy, stream, cupy.cuda.ExternalStream(stream.cuda_stream), flush, device)
    return _ENV


def _nvidia_driver_version() -> str | None:
    """The display-driver version (e.g. 580.159.04) through NVML when it is installed; else None."""
    try:
        import pynvml

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:  # optional provenance: NVML missing or unusable must not fail a benchmark
        return None


def hello(job: dict[str, Any]) -> dict[str, Any]:
    return {"device": _env().device, "pid": os.getpid()}


def _problem(job: dict[str, Any]) -> Problem:
    key = (job["problem"], job.get("problem_path"))
    if key not in _PROBLEMS:
        _PROBLEMS[key] = load_problem_in_worker(*key)
    return _PROBLEMS[key]


def _kernel(job: dict[str, Any]) -> Any:
    env = _env()
    cubin = base64.b64decode(job["cubin_b64"])
    digest = hashlib.sha256(cubin).hexdigest()
    if digest not in _MODULES:
        folder = paths.cache_dir() / "bench-cubins"  # content-addressed: no growth per run
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{digest}.cubin"
        if not path.is_file():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(cubin)
            tmp.replace(path)
        try:
            _MODULES[digest] = env.cupy.RawModule(path=str(path))
        except Exception as exc:
            raise refused_module(exc, env.device) from exc
    try:
        kernel = _MODULES[digest].get_function(job["kernel"])
    except Exception as exc:
        raise refused_module(exc, env.device) from exc
    smem = int(job["launch"]["shared_mem"])
    # The function's default limit is 48 KB minus its static shared memory, so a launch can need
    # the opt-in below 48 KB of dynamic memory too; the attribute outlives the job (module cache).
    if smem > kernel.max_dynamic_shared_size_bytes:
        kernel.max_dynamic_shared_size_bytes = smem
    return kernel


# Driver errors of a module load or symbol lookup that mean "this cubin does not fit this device" (or
# names no such kernel). They leave the CUDA context intact, so the worker is kept. Anything else
# (a sticky error from an earlier fault, out of memory) stays a fault and recycles the worker.
_MODULE_REFUSALS = {
    "CUDA_ERROR_NO_BINARY_FOR_GPU": "the cubin has no code for this GPU",
    "CUDA_ERROR_INVALID_IMAGE": "the cubin is not a valid module for this GPU",
    "CUDA_ERROR_INVALID_PTX": "the module's PTX cannot be compiled for this GPU",
    "CUDA_ERROR_UNSUPPORTED_PTX_VERSION": "the module's PTX is newer than this driver supports",
    "CUDA_ERROR_INVALID_SOURCE": "the module is not valid for this GPU",
    "CUDA_ERROR_NOT_FOUND": "the module has no kernel of that name",
}


def refused_module(exc: BaseException, device: dict[str, Any]) -> Exception:
    """RefusedInput for a load failure that is the submission's (wrong arch, bad image, missing
    kernel); ``exc`` itself otherwise."""
    text = f"{type(exc).__name__}: {exc}"
    for code, meaning in _MODULE_REFUSALS.items():
        if code in text:
            return RefusedInput(
                f"{meaning} ({device.get('name', 'the GPU')}, compute capability "
                f"{device.get('compute_capability', '?')}): {text}. An H100 needs code built for sm_90 or "
                "sm_90a"
            )
    return exc if isinstance(exc, Exception) else KernelFault(text)


def _harness(job: dict[str, Any]) -> Harness:
    env = _env()
    problem = _problem(job)
    sizes = {k: int(v) for k, v in job["sizes"].items()}
    kernel = _kernel(job)
    grid = tuple(int(v) for v in job["launch"]["grid"])
    block = tuple(int(v) for v in job["launch"]["block"])
    smem = int(job["launch"]["shared_mem"])

    def bind(inputs: dict[str, Any], outputs: dict[str, Any]) -> Any:
        args = kernel_args(problem, sizes, inputs, outputs)
        return lambda: kernel(grid, block, args, shared_mem=smem, stream=env.cupy_stream)

    def launch(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        bind(inputs, outputs)()

    # torch.cuda.synchronize waits for the whole device (not only our stream) and raises on a fault.
    return Harness(problem, sizes, "cuda", launch, env.torch.cuda.synchronize, bind)


def _stream() -> Any:
    env = _env()
    return env.torch.cuda.stream(env.stream)


def check(job: dict[str, Any]) -> dict[str, Any]:
    """Correctness on one shape over the job's seeds (at least 3)."""
    h = _harness(job)
    with _stream():
        return check_shape(h, [int(s) for s in job["seeds"]])


def _timing_kwargs(job: dict[str, Any]) -> dict[str, Any]:
    return {"cap_ms": float(job.get("cap_ms", CAP_MS))}


def time_kernel(job: dict[str, Any]) -> dict[str, Any]:
    """Time the kernel on two rotating, verified input sets; every timed output is verified."""
    h = _harness(job)
    env = _env()
    with _stream():
        sets = prepare_timing_sets(h, [int(s) for s in job["seeds"]])
        if isinstance(sets, str):
            return {"verified": False, "detail": sets}
        sums: list[tuple[int, Any]] = []

        def setup(i: int) -> None:
            poison(sets[i % len(sets)].outputs, "nan")

        def fn(i: int) -> None:
            sets[i % len(sets)].launch()

        def after(i: int) -> None:
            sums.append((i % len(sets), timed_mismatches(h, sets[i % len(sets)])))

        try:
            stats = time_gpu(
                fn, stream=env.stream, flush=env.flush, setup=setup, after=after, **_timing_kwargs(job)
            )
        except Exception as exc:
            raise KernelFault(
                f"the kernel faulted while being timed on {h.where}: {type(exc).__name__}: {exc}"
            ) from exc
        problem = verify_timed_outputs(h, sums)
        out_of_bounds = h.check_guards("the timed calls")
        if problem is None and out_of_bounds:
            problem = "a timed call wrote outside its buffers: " + "; ".join(out_of_bounds[:3])
    if problem is not None:
        return {"verified": False, "detail": problem}
    return {
        "verified": True,
        "detail": f"{len(sums)} timed calls within the problem tolerance",
        "stats": stats.model_dump(),
    }


def time_baseline(job: dict[str, Any]) -> dict[str, Any]:
    """Time the PyTorch op (eager, or torch.compile) with the same function and input rotation."""
    env = _env()
    torch = env.torch
    problem = _problem(job)
    sizes = {k: int(v) for k, v in job["sizes"].items()}
    with torch.cuda.stream(env.stream):
        sets = [authored.make_inputs(problem, sizes, seed, "cuda") for seed in job["seeds"]]
        op = problem.torch_op
        if job["baseline"] == "torch_compile":
            op = torch.compile(problem.torch_op, dynamic=False)
        first = authored.torch_op(problem, op, sets[0], sizes)  # compiles when torch_compile
        torch.cuda.synchronize()
        expected = authored.reference(problem, sets[0], sizes)
        notes = []
        for p in problem.outputs:
            atol, rtol = problem.tolerance[p.dtype]
            c = compare(first[p.name], expected[p.name], atol=atol, rtol=rtol, name=p.name)
            if not c.passed:
                notes.append(f"the {job['baseline']} baseline itself misses the tolerance: {c.report}")
        del first, expected
        stats = time_gpu(
            lambda i: op(sets[i % len(sets)], sizes),
            stream=env.stream,
            flush=env.flush,
            **_timing_kwargs(job),
        )
    return {"stats": stats.model_dump(), "notes": notes}


def _time_copy(env: _Env, n_bytes: int) -> Any:
    torch = env.torch
    src = torch.randint(0, 255, (n_bytes,), dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    return time_gpu(lambda i: dst.copy_(src), stream=env.stream, flush=env.flush)


def _time_matmul(env: _Env, size: int) -> Any:
    torch = env.torch
    a = torch.randn((size, size), device="cuda", dtype=torch.bfloat16)  # random data, never zeros
    b = torch.randn((size, size), device="cuda", dtype=torch.bfloat16)
    c = torch.empty((size, size), device="cuda", dtype=torch.bfloat16)
    return time_gpu(lambda i: torch.matmul(a, b, out=c), stream=env.stream, flush=env.flush)


def calibrate(job: dict[str, Any]) -> dict[str, Any]:
    """Measure the copy bandwidth (bytes read + written) and the dense bf16 matmul rate."""
    env = _env()
    n_bytes = int(job.get("copy_bytes", 1 << 30))
    size = int(job.get("matmul_size", 8192))
    with env.torch.cuda.stream(env.stream):
        copy = _time_copy(env, n_bytes)
        mm = _time_matmul(env, size)
    return {
        "copy_gbps": 2 * n_bytes / (copy.median * 1e3),
        "bf16_tflops": 2 * size**3 / (mm.median * 1e6),
        "copy_stats": copy.model_dump(),
        "matmul_stats": mm.model_dump(),
        "device": env.device,
        "method": f"copy of {n_bytes} bytes (bytes read + written); bf16 matmul {size}x{size}x{size}; "
        "medians",
    }
