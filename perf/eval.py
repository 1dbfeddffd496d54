"""`make bench` section "eval": the bundled skill's lift on real local open models (llama.cpp).

Runs only when `make engine` and `make model` have left llama-server and a verified model in
.cache/local-model/ (else it prints why it is skipped). For each model present (PERF_EVAL_MODELS,
default "0.5b,1.5b"): llama-server on loopback with 4 parallel slots, then the bundled skill's fact
cases and task cases as two evals (so each has its own wall time; the fact cases are the 17 that
upskill 0.2.1 took 10 min 22 s over on the 1.5B model here), at most 1024 tokens per answer,
PERF_EVAL_RUNS runs (default 3, 1 with --quick). One run is greedy (temperature 0, seed 0); several
runs sample at PERF_EVAL_TEMPERATURE (default 0.7, Qwen2.5-Coder's recommended setting) with seeds
0, 1, 2, ..., so their spread is the model's own variation and "within the noise" means something.
llama-server uses every core (PERF_EVAL_THREADS). Answers go to runs/.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("LOCAL_MODEL_CACHE", ".cache/local-model"))
MODELS = {
    "0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m",
    "1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m",
}
SKILL = Path("skills/h100-cuda-kernels")
UPSKILL_WALL_S_1_5B = 622.0  # upskill 0.2.1, same 17 fact cases, same model and machine (the issue)
PORT = 8092
MAX_TOKENS = 1024
PARALLEL = 4


def _available() -> tuple[list[tuple[str, Path]], str | None]:
    server = CACHE / "bin" / "llama-server"
    if not server.is_file():
        return [], f"no llama-server in {CACHE}/bin: run `make engine`"
    wanted = [m.strip() for m in os.environ.get("PERF_EVAL_MODELS", "0.5b,1.5b").split(",") if m.strip()]
    present = []
    for key in wanted:
        path = CACHE / "models" / f"{MODELS.get(key, key)}.gguf"
        if path.is_file() and Path(f"{path}.verified").is_file():
            present.append((key, path))
    if not present:
        return [], f"no verified model in {CACHE}/models: run `make model LOCAL_MODEL=0.5b`"
    return present, None


def _split_cases(folder: Path) -> dict[str, Path]:
    meta = json.loads((SKILL / "skill_meta.json").read_text(encoding="utf-8"))
    from kernel_skills.evals import parse_skill_meta

    kinds = [case.kind for case in parse_skill_meta(json.dumps(meta)).tests]
    files = {}
    for kind in ("fact", "task"):
        file = folder / f"{kind}.json"
        cases = [c for c, k in zip(meta["tests"], kinds, strict=True) if k == kind]
        file.write_text(json.dumps({"metadata": meta["metadata"], "tests": cases}), encoding="utf-8")
        files[kind] = file
    return files


def run(args: argparse.Namespace) -> dict:
    present, why = _available()
    if why:
        print(f"skipped: {why}")
        return {"skipped": why}
    from kernel_skills.commands.eval import _progress_printer
    from kernel_skills.evals import read_skill, run_batch, system_prompt
    from kernel_skills.evals.lift import prime_slots, running_server

    runs = int(os.environ.get("PERF_EVAL_RUNS", "1" if getattr(args, "quick", False) else "3"))
    temperature = 0.0 if runs == 1 else float(os.environ.get("PERF_EVAL_TEMPERATURE", "0.7"))
    threads = int(os.environ.get("PERF_EVAL_THREADS", "0")) or None
    header = (
        f"{'model':<36} {'cases':<8} {'without':>13} {'with':>13} {'lift':>7} {'noise':>8} "
        f"{'tokens':>8} {'wall s':>7} {'tok/s':>6}"
    )
    print(
        f"{os.cpu_count()} CPU cores, no GPU; llama.cpp llama-server, {PARALLEL} slots, "
        f"{threads or os.cpu_count()} threads; runs {runs}; temperature {temperature:g}, "
        f"seeds 0..{runs - 1}; max {MAX_TOKENS} tokens/answer; wall s is per run, priming included"
    )
    print(header)
    rows: list[dict[str, Any]] = []
    skill_prompt = system_prompt(read_skill(SKILL))
    with tempfile.TemporaryDirectory() as tmp:
        files = _split_cases(Path(tmp))
        for key, path in present:
            log = CACHE / "llama-server.log"
            with running_server(
                CACHE / "bin" / "llama-server",
                path,
                port=PORT,
                parallel=PARALLEL,
                log_file=log,
                threads=threads,
            ) as url:
                for kind, file in files.items():
                    primed = prime_slots(url, skill_prompt, model=path.stem, parallel=PARALLEL)
                    print(f"[{path.stem}] skill prompt processed once, into {PARALLEL} slots: {primed:.0f} s")
                    batch = run_batch(
                        SKILL,
                        [path.stem],
                        base_url=url,
                        runs=runs,
                        tests=file,
                        temperature=temperature,
                        seed=0,
                        max_tokens=MAX_TOKENS,
                        concurrency=PARALLEL,
                        timeout_s=600,
                        runs_dir=Path("runs"),
                        on_progress=_progress_printer(False),
                    )
                    rows.append(_row(key, kind, batch.models[0], primed))
    return {"runs": runs, "temperature": temperature, "threads": threads or os.cpu_count(), "rows": rows}


def _row(key: str, kind: str, r: Any, primed_s: float) -> dict[str, Any]:
    w, s = r.without_skill, r.with_skill

    def rate(t: Any) -> str:
        return f"{100 * t.pass_rate:5.1f}%" + (
            f"±{100 * t.spread:4.1f}" if t.spread is not None else "      "
        )

    noise = "-" if r.within_noise is None else "within" if r.within_noise else "beyond"
    tokens = (w.usage.total_tokens if w.usage else 0) + (s.usage.total_tokens if s.usage else 0)
    speed = r.throughput_tokens_per_s or 0.0
    per_run = (r.wall_time_s + primed_s) / max(1, r.runs)  # the one-off prompt priming included
    nj = w.not_judged + s.not_judged
    line = (
        f"{r.model:<36} {kind + f' {len(r.cases)}':<8} {rate(w):>13} {rate(s):>13} {100 * r.lift:+6.1f} "
        f"{noise:>8} {tokens:>8} {per_run:>7.0f} {speed:>6.1f}"
    )
    if nj:
        line += f"  ({nj} answers not judged)"
    if kind == "fact" and key == "1.5b":
        line += (
            f"  wall time per run {per_run / UPSKILL_WALL_S_1_5B:.2f}x upskill's {UPSKILL_WALL_S_1_5B:.0f} s"
        )
    print(line, flush=True)
    tallies = {
        name: {"without": w.assertions[name].model_dump(), "with": t.model_dump()}
        for name, t in s.assertions.items()
        if name in w.assertions
    }
    return {
        "model": r.model,
        "kind": kind,
        "cases": len(r.cases),
        "runs": r.runs,
        "without": w.pass_rate,
        "with": s.pass_rate,
        "lift": r.lift,
        "lift_spread": r.lift_spread,
        "within_noise": r.within_noise,
        "without_spread": w.spread,
        "with_spread": s.spread,
        "not_judged": nj,
        "tokens": tokens,
        "wall_time_s": r.wall_time_s,
        "wall_time_s_per_run": per_run,
        "priming_s": primed_s,
        "completion_tokens": (w.usage.completion_tokens if w.usage else 0)
        + (s.usage.completion_tokens if s.usage else 0),
        "throughput_tokens_per_s": speed,
        "per_answer_tokens_per_s": s.completion_tokens_per_s,
        "latency_s_mean": s.latency_s_mean,
        "assertions": tallies,
        "runs_dir": r.runs_dir,
    }
