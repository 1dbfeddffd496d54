"""The agentic eval: a recorded tool-calling transcript drives real episodes through the real MCP client,
the real server (recording on), NVRTC and the executable assertions."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig
from kernel_skills.cli import main
from kernel_skills.errors import EndpointError
from kernel_skills.evals.agent import run_agent_eval
from kernel_skills.surface.mcp_toolbox import mcp_toolbox_factory
from kernel_skills.traces import load_trace

from .agent_endpoint import Transcript, call, serve

GOOD = (
    'extern "C" __global__ void scale2(const float* x, float* y, int n) {\n'
    "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = 2.0f * x[i];\n}\n"
)
BROKEN = (
    'extern "C" __global__ void scale2(const float* x, float* y, int n) { y[0] = x[0] * undefined_name; }\n'
)
TASK = 'Write an extern "C" CUDA kernel scale2(const float* x, float* y, int n) that sets y = 2 * x.'


def _skill(root: Path) -> Path:
    skill = root / "demo-skill"
    skill.mkdir()
    (skill / "SKILL.md").write_text(
        "---\nname: demo-skill\ndescription: Demo skill for agentic tests.\n---\n\n"
        '# Demo\n\nUse extern "C".\n',
        encoding="utf-8",
    )
    meta = {
        "tests": [
            {"input": TASK, "expected": {"compiles": True, "kernel": "scale2", "no_spills": True}},
            {"input": "What keyword keeps a kernel name unmangled?", "expected": {"contains": ["extern"]}},
        ]
    }
    (skill / "skill_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return skill


def _recorded_session() -> Transcript:
    """What a small model did in one session: every kind of bad call, then a fix, then the answer."""
    return Transcript(
        bare_answer="I would write a loop over the elements.",
        skill_answer=f"```cuda\n{BROKEN}```",
        tool_turns=[
            {"tool_calls": [call("list_skills", {})]},
            {"tool_calls": [call("get_skill", {"name": "h100-cuda-kernels"})]},
            {"tool_calls": [call("compile_kernel", '{"source": "__global__ void', "c1")]},  # cut-off JSON
            {
                "tool_calls": [
                    call("run_shell", {"cmd": "nvcc"}, "c2"),
                    call("compile_kernel", {"source": 5}, "c3"),
                ]
            },
            {"tool_calls": [call("compile_kernel", {"source": BROKEN}, "c4")]},
            {"tool_calls": [call("compile_kernel", {"source": GOOD}, "c5")]},
            {
                "tool_calls": [
                    call(
                        "benchmark_kernel",
                        {"problem": "nope_problem", "block": [256], "grid": ["1"], "source": GOOD},
                        "c6",
                    )
                ]
            },
            {"content": f"Done:\n```cuda\n{GOOD}```", "tool_calls": []},
        ],
    )


def _run(skill: Path, base_url: str, traces: Path, runs_dir: Path | None = None, **kw):
    factory = mcp_toolbox_factory(ServerConfig(use_env=False, record_dir=traces), RUNTIME)
    return anyio.run(
        lambda: run_agent_eval(
            skill, "recorded-model", factory, base_url=base_url, runs_dir=runs_dir, traces_dir=traces, **kw
        )
    )


def test_a_recorded_session_runs_through_the_real_server_and_its_final_kernel_is_judged(tmp_path: Path):
    skill = _skill(tmp_path)
    transcript = _recorded_session()
    with serve(transcript) as url:
        report = _run(skill, url, tmp_path / "traces", tmp_path / "runs", max_turns=10)

    bare, context, tools = (report.conditions[c] for c in ("bare", "skill_in_context", "skill_and_tools"))
    assert (bare.pass_rate, context.pass_rate, tools.pass_rate) == (0.0, 0.0, 1.0)
    assert report.lift_skill_and_tools == 1.0 and report.lift_skill_in_context == 0.0
    assert tools.turns_mean == 8 and bare.turns_mean == 1
    assert tools.tool_calls == {
        "benchmark_kernel": 1,
        "compile_kernel": 4,
        "get_skill": 1,
        "list_skills": 1,
        "run_shell": 1,
    }
    assert (tools.malformed_arguments, tools.unknown_tools, tools.turn_limit) == (1, 1, 0)
    assert tools.usage.total_tokens == 8 * 120
    assert {m.assertion for m in report.moved} >= {"compiles", "kernel"}
    assert report.tool_calling == "supported"

    # What the model was told after each bad call: the eval's refusal, or the server's own error.
    tool_messages = [m for m in transcript.requests[-1]["messages"] if m["role"] == "tool"]
    by_id = {m["tool_call_id"]: m["content"] for m in tool_messages}
    assert "not valid JSON" in by_id["c1"] and "refused" in by_id["c1"]
    assert "Unknown tool: run_shell" in by_id["c2"]
    assert by_id["c3"].startswith("error:") and "source" in by_id["c3"]
    # the tools' text content, as a client gives the model (not the structured JSON)
    assert by_id["c4"].startswith("compile for sm_90a FAILED") and by_id["c5"].startswith(
        "compiled for sm_90a"
    )
    assert by_id["c6"].startswith("error:") and "nope_problem" in by_id["c6"]
    # The tools offered are the agent's five, as the server lists them.
    offered = {t["function"]["name"] for t in transcript.requests[-1]["tools"]}
    assert offered == {"list_skills", "get_skill", "read_skill_file", "compile_kernel", "benchmark_kernel"}

    episode = next(e for e in report.episodes if e.condition == "skill_and_tools")
    trace = load_trace(Path(episode.trace))
    kinds = [e.kind for e in trace.events]
    assert kinds[:3] == ["session", "skills_listed", "skill_read"]
    compile_events = [e for e in trace.events if e.kind == "compile"]
    # source=5 was refused by the server's argument check (a tool error); then a compile error; then ok.
    assert [e.ok for e in compile_events] == [False, True, True]
    assert "source" in (compile_events[0].error or "")
    assert [e.compile.ok for e in compile_events] == [False, False, True]
    assert compile_events[1].compile.diagnostics[0].severity == "error"
    assert trace.sources[compile_events[2].compile.source_hash] == GOOD
    bench = next(e for e in trace.events if e.kind == "benchmark")
    assert not bench.ok and bench.benchmark.problem == "nope_problem"
    assert (tmp_path / "runs" / "agent_report.json").is_file()
    assert len(list((tmp_path / "runs" / "episodes").glob("*.json"))) == 3


def test_a_looping_model_is_told_and_the_episode_ends_cleanly_at_the_turn_limit(tmp_path: Path):
    skill = _skill(tmp_path)
    transcript = Transcript(
        tool_turns=[{"tool_calls": [call("list_skills", {})]}],
        repeat_last=True,
        final_answer=f"```cuda\n{GOOD}```",
    )
    with serve(transcript) as url:
        report = _run(skill, url, tmp_path / "traces", max_turns=4, conditions=("skill_and_tools",))
    tools = report.conditions["skill_and_tools"]
    assert tools.turn_limit == 1 and tools.loops == 2 and tools.tool_calls == {"list_skills": 4}
    assert tools.turns_mean == 5  # four with tools, then one for the final kernel
    assert tools.pass_rate == 1.0
    tool_texts = [m["content"] for m in transcript.requests[-1]["messages"] if m["role"] == "tool"]
    assert "not run" in tool_texts[-1] and "same arguments" in tool_texts[-1]


def test_an_endpoint_that_refuses_tools_is_reported_and_the_other_conditions_still_run(tmp_path: Path):
    skill = _skill(tmp_path)
    transcript = Transcript(
        refuse_tools="tools are not supported by this model", skill_answer=f"```cuda\n{GOOD}```"
    )
    with serve(transcript) as url:
        report = _run(skill, url, tmp_path / "traces")
    assert report.tool_calling == "unsupported"
    assert "no tool-calling support" in report.tool_calling_detail
    assert report.conditions["skill_and_tools"].episodes == 0
    assert report.conditions["skill_in_context"].pass_rate == 1.0
    assert any("skill_and_tools was not run" in n for n in report.notes)


def test_tool_calls_written_as_plain_text_are_detected(tmp_path: Path):
    skill = _skill(tmp_path)
    text_call = '{"name": "compile_kernel", "arguments": {"source": "..."}}'
    transcript = Transcript(tool_turns=[{"content": text_call, "tool_calls": []}])
    with serve(transcript) as url:
        report = _run(skill, url, tmp_path / "traces", conditions=("skill_and_tools",))
    assert report.tool_calling == "plain_text"
    assert "--jinja" in report.tool_calling_detail
    assert report.conditions["skill_and_tools"].pass_rate == 0.0


def test_arguments_that_are_json_but_not_an_object_are_refused_with_what_is_accepted(tmp_path: Path):
    skill = _skill(tmp_path)
    transcript = Transcript(
        tool_turns=[
            {"tool_calls": [call("compile_kernel", "[1, 2]", "c1")]},
            {"content": "no", "tool_calls": []},
        ]
    )
    with serve(transcript) as url:
        report = _run(skill, url, tmp_path / "traces", conditions=("skill_and_tools",))
    assert report.conditions["skill_and_tools"].malformed_arguments == 1
    told = next(m for m in transcript.requests[-1]["messages"] if m["role"] == "tool")["content"]
    assert "a JSON list" in told and "one JSON object" in told


def test_the_cli_prints_the_three_conditions_and_writes_episodes_and_traces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    skill = _skill(tmp_path)
    with serve(_recorded_session()) as url:
        code = main(
            [
                "eval",
                str(skill),
                "--agent",
                "--model",
                "m",
                "--base-url",
                url,
                "--max-turns",
                "10",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--quiet",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0
    assert "bare" in out and "skill_in_context" in out and "skill_and_tools" in out
    assert "moved: compiles" in out and "tool calling: supported" in out
    (folder,) = (tmp_path / "runs").iterdir()
    assert list((folder / "traces").glob("*.jsonl"))
    assert main(["traces", "list", "--dir", str(folder / "traces")]) == 0
    listing = capsys.readouterr().out
    assert "client eval-case0-run0/m" in listing and "compiles 3 (2 failed)" in listing


def test_an_unusable_endpoint_stops_the_eval_with_its_error(tmp_path: Path, fake_endpoint):
    fake_endpoint.model.status = 404
    with pytest.raises(EndpointError, match="answered HTTP 404"):
        _run(_skill(tmp_path), fake_endpoint.base_url, tmp_path / "traces")


def test_text_tool_calls_runs_calls_written_as_json_when_asked(tmp_path: Path):
    skill = _skill(tmp_path)
    fenced = '```json\n{"name": "compile_kernel", "arguments": {"source": ' + json.dumps(GOOD) + "}}\n```"
    transcript = Transcript(tool_turns=[{"content": fenced, "tool_calls": []}], final_answer="Done.")
    with serve(transcript) as url:
        report = _run(
            skill,
            url,
            tmp_path / "traces",
            conditions=("skill_and_tools",),
            text_tool_calls=True,
            max_turns=3,
        )
    tools = report.conditions["skill_and_tools"]
    assert tools.tool_calls == {"compile_kernel": 1} and tools.pass_rate == 1.0  # the compiled source judged
    assert report.tool_calling == "plain_text" and "--text-tool-calls ran them" in report.tool_calling_detail
    assert report.text_tool_calls and any("--text-tool-calls" in n for n in report.notes)
    told = next(m for m in transcript.requests[-1]["messages"] if m["role"] == "tool")["content"]
    assert told.startswith("compiled for sm_90a") and "compile_id" in told


def test_the_cli_asks_for_a_model_before_an_agentic_eval_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["eval", str(_skill(tmp_path)), "--agent", "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "--model is required" in capsys.readouterr().err
