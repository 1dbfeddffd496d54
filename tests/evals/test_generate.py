"""skills generate / refine on recorded teacher replies, from a trace recorded through the real server."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import Implementation
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build
from kernel_skills.catalog import validate_path
from kernel_skills.cli import main
from kernel_skills.errors import RefusedInput, TeacherReplyError
from kernel_skills.evals import load_skill_meta
from kernel_skills.evals.skillgen import condense, failed_cases, generate_skill, refine_skill, render
from kernel_skills.traces import Trace, TraceEvent, load_trace
from kernel_skills.traces.models import BenchRecord, CheckRecord, CompileRecord, LintRecord

BROKEN = 'extern "C" __global__ void twice(const float* x, float* y, int n) { y[0] = 2.0f * undefined_x; }\n'
WORKS = (
    'extern "C" __global__ void twice(const float* x, float* y, int n) {\n'
    "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = 2.0f * x[i];\n}\n"
)

SKILL_MD = """---
name: twice-kernel
description: Write a CUDA kernel that doubles a float array. Use when asked for an elementwise scale kernel.
---

# Doubling kernel

- Declare it `extern "C"` so the benchmark finds it by name.
- Use every name you read: an undeclared identifier is a compile error.

```cuda
extern "C" __global__ void twice(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i];
}
```
"""
META = {
    "tests": [
        {"input": "Which linkage keeps the kernel name findable?", "expected": {"words": ["extern"]}},
        {
            "input": 'Write the twice kernel (extern "C", const float* x, float* y, int n).',
            "expected": {"compiles": True, "kernel": "twice"},
        },
    ]
}


def _reply(skill_md: str = SKILL_MD, meta: dict | str | None = META) -> str:
    text = f"Here is the skill.\n=== SKILL.md ===\n{skill_md}"
    if meta is not None:
        text += "=== skill_meta.json ===\n" + (meta if isinstance(meta, str) else json.dumps(meta)) + "\n"
    return text + "=== end ===\n"


def _completion(text: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}).encode()


@pytest.fixture
def recorded_trace(tmp_path: Path) -> Trace:
    async def session() -> None:
        app = build(ServerConfig(use_env=False, record_dir=tmp_path / "traces"), RUNTIME)
        async with Client(app.server, client_info=Implementation(name="expert", version="1")) as client:
            await client.call_tool("get_skill", {"name": "h100-cuda-kernels"})
            await client.call_tool("compile_kernel", {"source": BROKEN})
            await client.call_tool("compile_kernel", {"source": WORKS})

    anyio.run(session)
    (path,) = (tmp_path / "traces").glob("*.jsonl")
    return load_trace(path)


def test_a_trace_condenses_to_its_errors_and_the_change_that_fixed_them(recorded_trace: Trace):
    condensed = condense([recorded_trace])
    assert condensed.skills_read == ["h100-cuda-kernels/SKILL.md"]
    assert (condensed.compiles, condensed.failed_compiles) == (2, 1)
    (fix,) = condensed.compile_fixes
    assert "undefined_x" in fix.problem
    assert "-" in fix.diff and "+    if (i < n) y[i] = 2.0f * x[i];" in fix.diff
    assert condensed.best_kernel == WORKS
    text = render(condensed)
    assert "Compile error 1:" in text and "```diff" in text


def test_lint_fixes_and_benchmark_deltas_are_paired_with_the_attempts_that_made_them():
    def event(seq: int, **kw) -> TraceEvent:
        return TraceEvent(seq=seq, at="2026-01-01T00:00:00+00:00", elapsed_s=seq, method="tools/call", **kw)

    finding = LintRecord(rule="scalar-loads", message="use 128-bit loads")
    lint = CompileRecord(source_hash="a" * 64, source_chars=3, ok=True, lint=[finding])
    clean = CompileRecord(source_hash="b" * 64, source_chars=3, ok=True)
    failed = [CheckRecord(name="shape 1", detail="nan")]
    slow = BenchRecord(problem="rmsnorm", correct=False, checks_failed=failed)
    fast = BenchRecord(
        problem="rmsnorm", correct=True, time_us=12.5, speedup={"torch_eager": 2.5}, source_hash="b" * 64
    )
    trace = Trace(
        id="t",
        path="t.jsonl",
        events=[
            event(0, kind="compile", compile=lint),
            event(1, kind="benchmark", benchmark=slow),
            event(2, kind="compile", compile=clean),
            event(3, kind="benchmark", benchmark=fast),
        ],
        sources={"a" * 64: "old\n", "b" * 64: "new\n"},
    )
    condensed = condense([trace])
    assert [f.problem for f in condensed.lint_fixes] == ["scalar-loads: use 128-bit loads"]
    assert "-old" in condensed.lint_fixes[0].diff and "+new" in condensed.lint_fixes[0].diff
    (delta,) = condensed.bench_deltas
    assert delta.change == "incorrect -> correct" and delta.failed_checks == ["shape 1: nan"]
    assert condensed.best_kernel == "new\n" and "2.50x" in condensed.best_kernel_note


def test_generate_writes_a_spec_valid_skill_with_fact_and_task_cases(
    recorded_trace: Trace, fake_endpoint, tmp_path: Path
):
    fake_endpoint.model.raw_body = _completion(_reply())
    result = generate_skill(
        "write a kernel that doubles an array",
        [recorded_trace],
        tmp_path / "out",
        model="teacher",
        base_url=fake_endpoint.base_url,
    )
    assert result.name == "twice-kernel" and (result.fact_cases, result.task_cases) == (1, 1)
    skill = tmp_path / "out" / "twice-kernel"
    assert validate_path(skill).valid
    meta = load_skill_meta(skill)
    assert meta.metadata["generated_from"] == [recorded_trace.id]
    assert meta.metadata["teacher_model"] == "teacher"
    prompt = fake_endpoint.model.requests[0]["messages"][0]["content"]
    assert "write a kernel that doubles an array" in prompt and "Compile error 1:" in prompt
    assert "undefined_x" in prompt and '"seq"' not in prompt  # condensed, not the raw trace


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (_reply(meta=None), "no === skill_meta.json === part"),
        ("I cannot help with that.", "no === SKILL.md === part"),
        (_reply(meta="{not json"), "is not valid JSON"),
        (_reply(meta={"tests": [META["tests"][0]]}), "needs a fact case and a task case"),
        (_reply(SKILL_MD.split("# Doubling")[0]), "the SKILL.md body is empty"),
        (_reply(SKILL_MD.replace("Use when asked for", "For")), "does not say when to use the skill"),
        (_reply(SKILL_MD.replace("name: twice-kernel", "name: Twice_Kernel")), "is not 1-64 lowercase"),
        (_reply(SKILL_MD + "\n".join(f"- line {i}" for i in range(600))), "the spec suggests under 500"),
        (
            _reply(meta={"tests": [META["tests"][0], {"input": "x", "expected": {"abi": "nope"}}]}),
            "unknown problems ['nope']",
        ),
    ],
)
def test_a_teacher_reply_that_breaks_the_format_is_refused_and_saved(
    reply: str, problem: str, recorded_trace, fake_endpoint, tmp_path: Path
):
    fake_endpoint.model.raw_body = _completion(reply)
    with pytest.raises(TeacherReplyError, match="nothing was written") as err:
        generate_skill("task", [recorded_trace], tmp_path / "out", model="t", base_url=fake_endpoint.base_url)
    assert problem in str(err.value)
    assert err.value.raw_path.read_text() == reply
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".teacher-replies"]


def test_a_broken_part_is_sent_back_with_its_problems_and_the_valid_part_is_kept(
    recorded_trace, fake_endpoint, tmp_path: Path
):
    vague = SKILL_MD.replace("Use when asked for", "For")
    fake_endpoint.model.raw_bodies = [
        _completion(_reply(vague)),
        _completion(f"=== SKILL.md ===\n{SKILL_MD}=== end ===\n"),  # the cases are not sent again
    ]
    result = generate_skill(
        "task", [recorded_trace], tmp_path / "out", model="t", base_url=fake_endpoint.base_url
    )
    assert result.attempts == 2 and (result.fact_cases, result.task_cases) == (1, 1)
    assert "needed 2 replies" in result.warnings[0]
    first, second = fake_endpoint.model.requests
    assert len(first["messages"]) == 1
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert second["messages"][1]["content"] == _reply(vague)
    repair = second["messages"][2]["content"]
    assert "does not say when to use the skill" in repair and "the SKILL.md part" in repair
    assert "skill_meta.json part" not in repair
    (rejected,) = (tmp_path / "out" / ".teacher-replies").iterdir()
    assert rejected.read_text() == _reply(vague)


def test_the_teacher_has_as_many_attempts_as_asked_and_every_reply_is_kept(
    recorded_trace, fake_endpoint, tmp_path: Path
):
    fake_endpoint.model.raw_body = _completion("I cannot help with that.")
    with pytest.raises(TeacherReplyError, match="after 3 attempt"):
        generate_skill(
            "task", [recorded_trace], tmp_path / "out", model="t", base_url=fake_endpoint.base_url, attempts=3
        )
    assert len(list((tmp_path / "out" / ".teacher-replies").iterdir())) == 3
    assert [len(r["messages"]) for r in fake_endpoint.model.requests] == [1, 3, 3]  # only the last reply back
    with pytest.raises(RefusedInput, match="attempts must be between 1 and 10"):
        generate_skill("task", [recorded_trace], tmp_path / "out", model="t", attempts=0)


def test_an_endpoint_that_fails_mid_repair_ends_with_the_problems_and_the_replies_so_far(
    recorded_trace, fake_endpoint, tmp_path: Path
):
    fake_endpoint.model.raw_bodies = [_completion("no markers here"), b'{"not": "a chat completion"}']
    with pytest.raises(TeacherReplyError) as err:
        generate_skill("task", [recorded_trace], tmp_path / "out", model="t", base_url=fake_endpoint.base_url)
    message = str(err.value)
    assert "after 1 attempt" in message and "no === SKILL.md === part" in message
    assert "endpoint failed on attempt 2" in message
    assert err.value.raw_path.read_text() == "no markers here"


def test_task_cases_come_from_the_problems_the_session_benchmarked(fake_endpoint, tmp_path: Path):
    def event(seq: int, b: BenchRecord) -> TraceEvent:
        return TraceEvent(
            seq=seq,
            at="2026-01-01T00:00:00+00:00",
            elapsed_s=seq,
            method="tools/call",
            kind="benchmark",
            benchmark=b,
        )

    wrong = BenchRecord(problem="rmsnorm", kernel="rmsnorm", block=[128], grid=["rows"], correct=False)
    right = BenchRecord(problem="rmsnorm", kernel="rmsnorm", block=[256], grid=["rows"], correct=True)
    later_wrong = BenchRecord(problem="rmsnorm", kernel="rmsnorm", block=[64], grid=["rows"], correct=False)
    custom = BenchRecord(problem="not_here", block=[32], grid=["n"], correct=True)
    trace = Trace(
        id="t",
        path="t.jsonl",
        events=[event(0, wrong), event(1, right), event(2, later_wrong), event(3, custom)],
    )
    fact_only = {"tests": [META["tests"][0]]}
    fake_endpoint.model.raw_body = _completion(_reply(meta=fact_only))
    result = generate_skill("rmsnorm", [trace], tmp_path / "out", model="t", base_url=fake_endpoint.base_url)
    assert (result.fact_cases, result.task_cases, result.cases_from_traces) == (1, 1, 1)
    task = load_skill_meta(tmp_path / "out" / "twice-kernel").tests[1]
    assert "block (256, 1, 1) and grid (rows, 1, 1)" in task.input
    assert "void rmsnorm(const __nv_bfloat16* x" in task.input
    assert task.expected.correct == "rmsnorm" and task.expected.launch.block == [256]


def test_refine_sends_a_broken_reply_back(fake_endpoint, tmp_path: Path):
    skill = tmp_path / "twice-kernel"
    skill.mkdir()
    (skill / "SKILL.md").write_text(SKILL_MD)
    better = SKILL_MD.replace("# Doubling kernel", "# Doubling kernel\n\nAnswer with one block.")
    fake_endpoint.model.raw_bodies = [
        _completion("Sure! Here you go."),
        _completion(f"=== SKILL.md ===\n{better}=== end ==="),
    ]
    result = refine_skill(skill, _eval_report(tmp_path), model="t", base_url=fake_endpoint.base_url)
    assert result.attempts == 2 and (skill / "SKILL.md").read_text() == better
    assert "no === SKILL.md === part" in fake_endpoint.model.requests[1]["messages"][2]["content"]


def _run(passed: bool, missed: list[str], answer: str) -> dict:
    return {"score": {"passed": passed, "missed": missed}, "answer": answer}


def _eval_report(tmp_path: Path) -> Path:
    report = {
        "skill": "twice-kernel",
        "cases": [
            {
                "index": 0,
                "input": "Write the twice kernel.",
                "with_skill": {"runs": [_run(False, ["compiles"], "no code")]},
            },
            {"index": 1, "input": "ok one", "with_skill": {"runs": [_run(True, [], "x")]}},
        ],
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return path


def test_refine_rewrites_the_skill_md_from_the_failed_cases_and_keeps_the_cases(
    fake_endpoint, tmp_path: Path
):
    skill = tmp_path / "twice-kernel"
    skill.mkdir()
    (skill / "SKILL.md").write_text(SKILL_MD)
    (skill / "skill_meta.json").write_text(json.dumps(META))
    rule = "Always answer with one ```cuda block."
    better = SKILL_MD.replace("# Doubling kernel", f"# Doubling kernel\n\n{rule}")
    fake_endpoint.model.raw_body = _completion(f"=== SKILL.md ===\n{better}=== end ===")
    result = refine_skill(skill, _eval_report(tmp_path), model="teacher", base_url=fake_endpoint.base_url)
    assert (skill / "SKILL.md").read_text() == better and (skill / "SKILL.md.prev").read_text() == SKILL_MD
    assert json.loads((skill / "skill_meta.json").read_text()) == META and result.cases == 2
    prompt = fake_endpoint.model.requests[0]["messages"][0]["content"]
    assert "Write the twice kernel." in prompt and "missed: compiles" in prompt and "ok one" not in prompt


def test_failed_cases_are_read_from_an_agentic_report_without_the_bare_condition(tmp_path: Path):
    def episode(case: int, condition: str, passed: bool) -> dict:
        return {"case": case, "condition": condition, "final_answer": "code", **_run(passed, ["abi"], "")}

    report = {
        "cases": ["first task", "second task"],
        "episodes": [
            episode(0, "bare", False),
            episode(1, "skill_and_tools", False),
            episode(0, "skill_in_context", True),
        ],
    }
    path = tmp_path / "agent_report.json"
    path.write_text(json.dumps(report))
    (failed,) = failed_cases(path)
    assert failed.input == "second task" and failed.missed == ["abi"]
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(RefusedInput, match="is not an eval report"):
        failed_cases(tmp_path / "other.json")


def test_refine_refuses_a_reply_that_renames_the_skill(fake_endpoint, tmp_path: Path):
    skill = tmp_path / "twice-kernel"
    skill.mkdir()
    (skill / "SKILL.md").write_text(SKILL_MD)
    renamed = SKILL_MD.replace("name: twice-kernel", "name: other-kernel")
    fake_endpoint.model.raw_body = _completion(f"=== SKILL.md ===\n{renamed}=== end ===")
    with pytest.raises(TeacherReplyError, match="the name changed"):
        refine_skill(skill, _eval_report(tmp_path), model="t", base_url=fake_endpoint.base_url)
    assert (skill / "SKILL.md").read_text() == SKILL_MD and not (skill / "SKILL.md.prev").exists()


def test_the_cli_generates_and_reports_a_bad_reply_with_exit_1(
    recorded_trace, fake_endpoint, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    fake_endpoint.model.raw_body = _completion(_reply())
    args = [
        "skills",
        "generate",
        "double an array",
        "--from",
        recorded_trace.path,
        "--model",
        "t",
        "--base-url",
        fake_endpoint.base_url,
        "--out",
        str(tmp_path / "out"),
        "--json",
    ]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "twice-kernel"
    assert main(args) == 1  # the same name exists now
    assert "exists (pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_the_prompt_can_be_printed_and_a_reply_got_elsewhere_given_back(
    recorded_trace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    base = [
        "skills",
        "generate",
        "double an array",
        "--from",
        recorded_trace.path,
        "--out",
        str(tmp_path / "out"),
    ]
    assert main([*base, "--print-prompt"]) == 0
    prompt = capsys.readouterr().out
    assert "double an array" in prompt and "Compile error 1:" in prompt and "=== SKILL.md ===" in prompt
    assert main(base) == 2
    assert "give --model (or --reply FILE" in capsys.readouterr().err
    broken = tmp_path / "broken.txt"
    broken.write_text("I cannot help with that.")
    assert main([*base, "--reply", str(broken)]) == 1  # no model to send the problems to: one attempt
    assert "after 1 attempt" in capsys.readouterr().err
    good = tmp_path / "reply.txt"
    good.write_text(_reply())
    assert main([*base, "--reply", str(good), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["name"] == "twice-kernel" and result["attempts"] == 1
    meta = load_skill_meta(tmp_path / "out" / "twice-kernel")
    assert meta.metadata["teacher_model"] == "a reply given with --reply"
