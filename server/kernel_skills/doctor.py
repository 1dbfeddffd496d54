"""What works on this machine and why not: the facts ``kernel-skills doctor`` prints (and the server
may state in its instructions), each with the fix.

``diagnose(build=True)`` runs every check; none raises: a check that cannot tell reports ``error``
with the reason. ``build=False`` skips the one slow step (building the emulator's engine and its
confined launcher with g++) and only says whether they are built. Heavy libraries are never imported
here: torch, CuPy and Ray are found by their package metadata, torch's build by its ``version.py``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from kernel_skills.errors import OPTIONAL_MODULES

Status = Literal["ok", "warning", "missing", "error"]
TORCH_INSTALL = OPTIONAL_MODULES["torch"][1]
CUPY_INSTALL = OPTIONAL_MODULES["cupy"][1]
RAY_INSTALL = OPTIONAL_MODULES["ray"][1]


class Check(BaseModel):
    name: str  # "nvrtc", "gxx", "torch", ... (stable: tests and the server's instructions use them)
    status: Status
    detail: str  # what was found
    fix: str | None = None  # what to do when the status is not ok
    needed_for: str  # what needs this piece
    optional: bool = False  # missing it only switches off what needs it


class Capabilities(BaseModel):
    """What this machine can do, from the checks."""

    compile: bool  # compile_kernel (NVRTC, headers, the compile worker's confinement)
    emulator: bool  # benchmark_kernel on the CPU emulator (correctness verdicts, no timing)
    gpu: bool  # benchmark_kernel on a GPU (timing, speedup, roofline)
    ray: bool  # --executor ray


class DoctorReport(BaseModel):
    ok: bool  # every check that is not optional passed (warnings allowed)
    capabilities: Capabilities
    checks: list[Check] = Field(default_factory=list)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


def _ok(name: str, detail: str, needed_for: str, **kw: object) -> Check:
    return Check(name=name, status="ok", detail=detail, needed_for=needed_for, **kw)  # type: ignore[arg-type]


def _not_ok(name: str, status: Status, detail: str, fix: str, needed_for: str, **kw: object) -> Check:
    return Check(name=name, status=status, detail=detail, fix=fix, needed_for=needed_for, **kw)  # type: ignore[arg-type]


# --- the toolchain ------------------------------------------------------------------------------

COMPILE = "compile_kernel (and every benchmark)"


def check_nvrtc() -> Check:
    from kernel_skills.errors import CompileError
    from kernel_skills.toolchain import toolkit

    try:
        kit = toolkit()
    except CompileError as exc:
        return _not_ok("nvrtc", "missing", str(exc), "pip install kernel-skills (its NVRTC wheels)", COMPILE)
    if 90 not in kit.nvrtc_archs:
        return _not_ok(
            "nvrtc",
            "missing",
            f"NVRTC {kit.nvrtc_version} cannot target sm_90 (archs {kit.nvrtc_archs})",
            "pip install 'nvidia-cuda-nvrtc>=13,<14'",
            COMPILE,
        )
    return _ok("nvrtc", f"NVRTC {kit.nvrtc_version} (sm_90a supported); nvdisasm, cuobjdump found", COMPILE)


def check_headers() -> Check:
    from kernel_skills.errors import CompileError
    from kernel_skills.toolchain import toolkit

    try:
        dirs = toolkit().include_dirs
    except CompileError as exc:
        return _not_ok("cuda-headers", "missing", str(exc), "install the CUDA header wheels", COMPILE)
    wanted = ("cuda_runtime.h", "cuda_fp16.h", "cub/cub.cuh", "cuda/std/cstdint")
    absent = [h for h in wanted if not any((d / h).is_file() for d in dirs)]
    if absent:
        return _not_ok(
            "cuda-headers",
            "missing",
            f"not found on the include path: {', '.join(absent)}",
            "pip install nvidia-cuda-runtime nvidia-cuda-cccl (versions 13.x)",
            COMPILE,
        )
    return _ok("cuda-headers", f"CUDA runtime and CCCL headers ({len(dirs)} include folders)", COMPILE)


def _retired(check: Check, name: str) -> Check:
    """``check``, saying so when the retired opt-out variable ``name`` is set (it is no longer read)."""
    from kernel_skills.confine import UNCONFINED_ENV, retired_settings

    notes = retired_settings((name,))
    if not notes:
        return check
    fix = f"unset {name}; for trusted local use only, set {UNCONFINED_ENV}=1 instead"
    status = "warning" if check.status == "ok" else check.status
    detail = f"{check.detail}; {'; '.join(notes)}"
    return check.model_copy(update={"status": status, "detail": detail, "fix": check.fix or fix})


def check_compile_confinement() -> Check:
    from kernel_skills.confine import COMPILE_RETIRED_ENV

    return _retired(_compile_confinement(), COMPILE_RETIRED_ENV)


def _compile_confinement() -> Check:
    from kernel_skills.confine import UNCONFINED_ENV, weaker_than_default

    weaker = weaker_than_default()
    if weaker is None:
        return _ok("compile-confinement", "NVRTC runs in a user namespace and under Landlock", COMPILE)
    if "refused" in weaker:
        fix = (
            "run on Linux 5.13+ with Landlock enabled or with unprivileged user namespaces allowed; "
            f"for trusted local use only: serve --unconfined ({UNCONFINED_ENV}=1)"
        )
        return _not_ok("compile-confinement", "missing", weaker, fix, COMPILE)
    fix = "enable Landlock (Linux 5.13+, lsm=landlock) and unprivileged user namespaces for both walls"
    return _not_ok("compile-confinement", "warning", weaker, fix, COMPILE)


# --- the CPU emulator ---------------------------------------------------------------------------

EMULATOR = "benchmark_kernel without a GPU (the CPU emulator's verdicts)"


def check_gxx() -> Check:
    from kernel_skills.errors import DeviceUnavailable
    from kernel_skills.gxx import INSTALL_HINT, find_gxx, gxx_version

    try:
        return _ok("gxx", f"{find_gxx()}: {gxx_version()}", EMULATOR)
    except DeviceUnavailable as exc:
        return _not_ok("gxx", "missing", str(exc), INSTALL_HINT, EMULATOR)


def check_engine(build: bool) -> Check:
    """The engine and the confined launcher, the project's own C++ built once per install."""
    from kernel_skills import paths
    from kernel_skills.confine import build_launcher, launcher_path
    from kernel_skills.emulator import build_engine, cached_engine
    from kernel_skills.errors import DeviceUnavailable
    from kernel_skills.gxx import INSTALL_HINT

    folder = paths.cache_dir() / "emulator"
    try:
        if not build:
            built = cached_engine(folder) is not None and launcher_path().exists()
            state = "built" if built else "not built yet: g++ builds it on the first emulator run"
            return _ok("emulator-engine", f"{state} ({folder})", EMULATOR)
        engine = build_engine(folder)
        build_launcher()
    except DeviceUnavailable as exc:
        fix = INSTALL_HINT if "not installed" in str(exc) else f"check g++ and that {folder} is writable"
        return _not_ok("emulator-engine", "missing", str(exc), fix, EMULATOR)
    how = "cached" if engine.cached else f"built now in {engine.build_ms / 1000:.1f} s"
    return _ok("emulator-engine", f"engine and confined launcher {how} ({engine.exe.parent})", EMULATOR)


def _seccomp_available() -> bool:
    return Path("/proc/sys/kernel/seccomp/actions_avail").is_file()


def check_emulator_confinement() -> Check:
    from kernel_skills.confine import EMULATOR_RETIRED_ENV

    return _retired(_emulator_confinement(), EMULATOR_RETIRED_ENV)


def _emulator_confinement() -> Check:
    from kernel_skills.confine import UNCONFINED_ENV, require_child_confinement
    from kernel_skills.errors import DeviceUnavailable

    try:
        walls = require_child_confinement()
    except DeviceUnavailable as exc:
        fix = (
            "run on Linux 5.13+ with Landlock enabled (lsm=...,landlock); for trusted local use only: "
            f"{UNCONFINED_ENV}=1"
        )
        return _not_ok("emulator-confinement", "missing", str(exc), fix, EMULATOR)
    if walls.startswith("UNCONFINED"):
        fix = f"unset {UNCONFINED_ENV} where Landlock is available"
        return _not_ok("emulator-confinement", "warning", walls, fix, EMULATOR)
    if not _seccomp_available():
        fix = "a kernel with seccomp filters (CONFIG_SECCOMP_FILTER)"
        return _not_ok("emulator-confinement", "warning", f"{walls}; no seccomp filters", fix, EMULATOR)
    return _ok("emulator-confinement", f"{walls}; the engine's seccomp filter", EMULATOR)


# --- optional libraries and the GPU -------------------------------------------------------------

GPU = "benchmark_kernel on a GPU (time, speedup, roofline)"


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def torch_build() -> tuple[str, str | None] | None:
    """(version, CUDA version or None for a CPU build) of the installed torch, read from its
    ``version.py`` without importing it; None when torch is not installed."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return None
    text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    version = re.search(r"^__version__\s*(?::[^=]*)?=\s*['\"]([^'\"]+)", text, re.M)
    cuda = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)", text, re.M)
    return (version.group(1) if version else "unknown"), (cuda.group(1) if cuda else None)


def check_torch() -> Check:
    needed = "benchmark_kernel (the problems' PyTorch references), on the emulator or a GPU"
    build = torch_build()
    if build is None:
        return _not_ok("torch", "missing", "torch is not installed", TORCH_INSTALL, needed)
    version, cuda = build
    kind = f"CUDA {cuda} build" if cuda else "CPU build (enough for the emulator; a GPU run needs CUDA)"
    return _ok("torch", f"torch {version}, {kind}", needed)


def check_gpu() -> Check:
    from kernel_skills.bench import require_cuda_device
    from kernel_skills.errors import DeviceUnavailable

    try:
        require_cuda_device()
    except DeviceUnavailable as exc:
        fix = "none needed: benchmarks run on the CPU emulator here; a GPU run needs an NVIDIA GPU (H100)"
        return _not_ok("gpu", "missing", str(exc), fix, GPU, optional=True)
    return _ok("gpu", "NVIDIA driver library and a device node present", GPU, optional=True)


def check_cupy() -> Check:
    found = _dist_version("cupy-cuda13x", "cupy-cuda12x", "cupy")
    if found is None or importlib.util.find_spec("cupy") is None:
        return _not_ok("cupy", "missing", "CuPy is not installed", CUPY_INSTALL, GPU, optional=True)
    return _ok("cupy", found, GPU, optional=True)


def check_ray() -> Check:
    needed = "--executor ray (jobs on a Ray cluster); the local executor needs nothing"
    found = _dist_version("ray")
    if found is None or importlib.util.find_spec("ray") is None:
        return _not_ok("ray", "missing", "Ray is not installed", RAY_INSTALL, needed, optional=True)
    return _ok("ray", found, needed, optional=True)


# --- where things are written -------------------------------------------------------------------


def _writable(folder: Path) -> str | None:
    """None when a file can be made in ``folder`` (made if absent); else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def check_dir(name: str, folder: Path, env: str, needed_for: str) -> Check:
    why = _writable(folder)
    source = f" (from ${env})" if os.environ.get(env) else ""
    if why is not None:
        fix = f"make {folder} writable, or point ${env} at a writable folder"
        return _not_ok(name, "missing", f"{folder}{source} is not writable: {why}", fix, needed_for)
    return _ok(name, f"{folder}{source}", needed_for)


def check_data_dir() -> Check:
    from kernel_skills import paths

    needed = "the results DB and the device calibration"
    return check_dir("data-dir", paths.data_dir(), paths.DATA_DIR_ENV, needed)


def check_cache_dir() -> Check:
    from kernel_skills import paths

    needed = "the compile cache and the emulator's engine"
    return check_dir("cache-dir", paths.cache_dir(), paths.CACHE_DIR_ENV, needed)


# --- the report ---------------------------------------------------------------------------------


def _guarded(name: str, run: Callable[[], Check]) -> Check:
    """A check that itself fails is reported as such; the doctor never stops on one."""
    try:
        return run()
    except Exception as exc:  # any failure of a probe is that check's finding
        return Check(
            name=name,
            status="error",
            detail=f"the check itself failed: {type(exc).__name__}: {exc}",
            fix="report this at the project's issue tracker",
            needed_for="",
        )


def diagnose(*, build: bool = True) -> DoctorReport:
    """Every check (see the module docstring); ``build=False`` skips building the emulator's engine."""
    probes: list[tuple[str, Callable[[], Check]]] = [
        ("nvrtc", check_nvrtc),
        ("cuda-headers", check_headers),
        ("compile-confinement", check_compile_confinement),
        ("gxx", check_gxx),
        ("emulator-engine", lambda: check_engine(build)),
        ("emulator-confinement", check_emulator_confinement),
        ("torch", check_torch),
        ("gpu", check_gpu),
        ("cupy", check_cupy),
        ("ray", check_ray),
        ("data-dir", check_data_dir),
        ("cache-dir", check_cache_dir),
    ]
    checks = [_guarded(name, run) for name, run in probes]
    return DoctorReport(
        ok=all(c.status in ("ok", "warning") for c in checks if not c.optional),
        capabilities=capabilities(checks),
        checks=checks,
    )


def _torch_has_cuda() -> bool:
    try:
        build = torch_build()
    except OSError:
        return False
    return build is not None and build[1] is not None


def capabilities(checks: list[Check]) -> Capabilities:
    works = {c.name for c in checks if c.status in ("ok", "warning")}
    compile_ = {"nvrtc", "cuda-headers", "compile-confinement", "cache-dir"} <= works
    emulator = compile_ and {"gxx", "emulator-engine", "emulator-confinement", "torch"} <= works
    gpu = compile_ and {"gpu", "cupy", "torch"} <= works and _torch_has_cuda()
    return Capabilities(compile=compile_, emulator=emulator, gpu=gpu, ray="ray" in works)


__all__ = ["Capabilities", "Check", "DoctorReport", "capabilities", "diagnose", "torch_build"]
