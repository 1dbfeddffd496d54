"""`make bench` section "emulator": one submission's full CPU-emulator verdict per bundled problem.

For every problem in kernels/solutions.json: the first build of its runner (confined g++, into an
empty cache, the engine object included for the first problem only) and then the verdict with the
build cached — every emulator shape, three seeds plus the determinism re-run each, each launch one
confined runner process — p50 over a few repeats, against the targets (<= 10 s for a memory-bound
problem, <= 30 s for attention) as a ratio. The confinement's own cost is measured in the same run:
one confined launch of a trivial program against the same program started directly.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_S = {"memory": 10.0, "attention": 30.0}


def run(args: argparse.Namespace) -> dict:
    import shutil

    from kernel_skills.emulator import sandbox

    if shutil.which("g++") is None:
        print("skipped: g++ is not installed (the emulator builds kernels with it)")
        return {"skipped": "no g++"}
    if not sandbox.confinement_available():
        print("skipped: Linux Landlock is not available, so the emulator refuses to run kernels")
        return {"skipped": "no Landlock"}
    repeats = 3 if getattr(args, "quick", False) else 5
    old = os.environ.get("KERNEL_SKILLS_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="kernel-skills-perf-emu-") as tmp:
        os.environ["KERNEL_SKILLS_CACHE_DIR"] = tmp
        try:
            overhead = _confinement_overhead(Path(tmp))
            rows = _verdicts(repeats)
        finally:
            if old is None:
                os.environ.pop("KERNEL_SKILLS_CACHE_DIR", None)
            else:
                os.environ["KERNEL_SKILLS_CACHE_DIR"] = old
    return {"repeats": repeats, "confinement": overhead, "rows": rows, "machine": _machine()}


def _machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPU cores, {memory_gib:.0f} GiB"


def _confinement_overhead(work: Path, n: int = 20) -> dict[str, float]:
    from kernel_skills.emulator.sandbox import run_confined

    true = Path("/bin/true").resolve()
    direct, confined = [], []
    for _ in range(n):
        started = time.perf_counter()
        subprocess.run([str(true)], check=True)
        direct.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        done = run_confined([str(true)], workdir=work / "probe", read_only=[], timeout_s=10, memory_mb=256)
        confined.append((time.perf_counter() - started) * 1000)
        assert done.returncode == 0, done.stderr
    d, c = statistics.median(direct), statistics.median(confined)
    print(f"confined launch of /bin/true: p50 {c:.1f} ms vs {d:.1f} ms started directly ({c / d:.1f}x)")
    return {"direct_ms": d, "confined_ms": c, "ratio": c / d}


def _verdicts(repeats: int) -> list[dict[str, Any]]:
    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.bench.registry import load_registry
    from kernel_skills.bench.solutions import load_solutions, solution_request_fields
    from kernel_skills.dispatch import benchmark
    from kernel_skills.errors import KernelSkillsError

    registry = load_registry(use_env=False)
    header = f"{'problem':<20} {'shapes':>6} {'first build s':>13} {'verdict p50 s':>13} {'target s':>8} "
    print(header + f"{'p50/target':>10}  verdict")
    rows: list[dict[str, Any]] = []
    for problem in sorted(load_solutions()):
        request = BenchRequest(**solution_request_fields(problem), device="emulator")
        kind = "attention" if problem.startswith("attention") else "memory"
        try:
            first = benchmark(request, store=False)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                result = benchmark(request, store=False)
                times.append(time.perf_counter() - started)
        except KernelSkillsError as exc:
            print(f"{problem:<20} error ({type(exc).__name__}): {exc}")
            rows.append({"problem": problem, "error": f"{type(exc).__name__}: {exc}"})
            continue
        build = next(c for c in first.checks if c.name == "emulator build").detail
        build_s = float(build.split("built in ")[1].split(" s")[0]) if "built in" in build else 0.0
        p50, target = statistics.median(times), TARGET_S[kind]
        shapes = len(registry.get(problem).emulator_shapes)
        verdict = "correct" if result.correct else "INCORRECT"
        figures = f"{build_s:>13.1f} {p50:>13.2f} {target:>8.0f} {p50 / target:>10.2f}"
        print(f"{problem:<20} {shapes:>6} {figures}  {verdict}")
        rows.append(
            {
                "problem": problem,
                "shapes": shapes,
                "first_build_s": build_s,
                "verdict_p50_s": p50,
                "verdict_s": times,
                "target_s": target,
                "ratio_to_target": p50 / target,
                "correct": result.correct,
            }
        )
    print(f"machine: {_machine()}; targets met: {all(r.get('ratio_to_target', 9) <= 1 for r in rows)}")
    return rows
