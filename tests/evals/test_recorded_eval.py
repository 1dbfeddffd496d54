"""The bundled skill's eval replayed from a real model's recorded answers (CI's fast path).

tests/evals/data/qwen2.5-coder-0.5b-answers.json holds every answer Qwen2.5-Coder-0.5B-Instruct
(Q4_K_M, llama.cpp, temperature 0, seed 0, max 1024 tokens) gave in one `make eval` run, with the
status that run judged. Replayed through the local test endpoint, the eval must judge each answer
the same way: the real NVRTC compiles the task answers' code, the real benchmark path is asked for
`correct` (not judged without a GPU or emulator, with the reason).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.evals import load_skill_meta, read_skill, run_eval
from kernel_skills.paths import bundled_skills_dir

RECORDED = Path(__file__).parent / "data" / "qwen2.5-coder-0.5b-answers.json"
SKILL = bundled_skills_dir() / "h100-cuda-kernels"


@pytest.mark.slow
def test_recorded_answers_are_judged_as_the_real_run_judged_them(fake_endpoint) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    prompts = [case.prompt() for case in load_skill_meta(SKILL).tests]
    assert [r["input"] for r in recorded["answers"] if r["condition"] == "with_skill"] == prompts
    fake_endpoint.model.skill_marker = read_skill(SKILL).body.splitlines()[0]
    fake_endpoint.model.transcript = {
        (r["condition"] == "with_skill", r["input"]): r["answer"] for r in recorded["answers"]
    }
    report = run_eval(SKILL, recorded["model"], base_url=fake_endpoint.base_url, concurrency=2)
    judged = {
        (cond, case.index): getattr(case, cond).runs[0].score.status
        for case in report.cases
        for cond in ("without_skill", "with_skill")
    }
    expected = {(r["condition"], r["case"]): r["status"] for r in recorded["answers"]}
    assert judged == expected
    assert report.by_kind["task"].cases == 8
    assert report.by_kind["fact"].cases == 17
