"""Traces: a real MCP client session against the real server with recording on, read back and rendered."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import Implementation
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build
from kernel_skills.cli import main
from kernel_skills.errors import RefusedInput
from kernel_skills.surface import sdk
from kernel_skills.surface.recording import Recording
from kernel_skills.traces import list_traces, load_trace, render_markdown

pytestmark = pytest.mark.anyio

# A global store inside a loop reads as a lint finding; an undefined name is a compile error.
WORKS = (
    'extern "C" __global__ void twice(const float* x, float* y, int n) {\n'
    "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < n) y[i] = 2.0f * x[i];\n}\n"
)
BROKEN = 'extern "C" __global__ void twice(float* y) { y[0] = nope; }\n'


async def _session(record: Path) -> None:
    app = build(ServerConfig(use_env=False, record_dir=record), RUNTIME)
    async with Client(app.server, client_info=Implementation(name="test-agent", version="1")) as client:
        await client.call_tool("list_skills", {})
        await client.call_tool("get_skill", {"name": "h100-cuda-kernels"})
        await client.read_resource("skill://h100-cuda-kernels/SKILL.md")
        await client.call_tool("read_skill_file", {"name": "h100-cuda-kernels", "path": "../etc/passwd"})
        await client.call_tool("compile_kernel", {"source": BROKEN})
        await client.call_tool(
            "compile_kernel", {"source": WORKS, "options": ["-lineinfo"], "block_size": 256}
        )
        await client.call_tool("compile_kernel", {"source": WORKS})  # same source: stored once
        await client.call_tool(
            "benchmark_kernel", {"problem": "rmsnorm", "block": [256], "grid": ["rows"], "source": WORKS}
        )


async def test_a_recorded_session_lists_every_kernel_step_in_order_with_the_client_name(tmp_path: Path):
    await _session(tmp_path)
    (trace_file,) = tmp_path.glob("*.jsonl")
    lines = [json.loads(line) for line in trace_file.read_text().splitlines()]
    assert [e["seq"] for e in lines] == list(range(len(lines)))
    assert {e["client"] for e in lines} == {"test-agent"}
    assert [e["kind"] for e in lines] == [
        "session",
        "skills_listed",
        "skill_read",
        "skill_read",
        "file_read",
        "compile",
        "compile",
        "compile",
        "benchmark",
    ]
    assert all(e["at"].endswith("+00:00") for e in lines)
    get_skill, resource = lines[2], lines[3]
    assert get_skill["tool"] == "get_skill" and get_skill["chars"] > 1000
    assert resource["method"] == "resources/read" and resource["path"] == "SKILL.md"
    bad_read = lines[4]
    assert bad_read["ok"] is False and "leaves the skill folder" in bad_read["error"]

    broken, works, again = (e["compile"] for e in lines[5:8])
    assert broken["ok"] is False and broken["diagnostics"][0]["severity"] == "error"
    assert "nope" in broken["diagnostics"][0]["message"]
    assert works["ok"] and works["options"] == ["-lineinfo"] and works["block_size"] == 256
    assert works["kernels"][0]["name"] == "twice" and works["kernels"][0]["registers"] > 0
    assert works["source_hash"] == again["source_hash"] != broken["source_hash"]
    sources = sorted((tmp_path / "sources").iterdir())
    assert len(sources) == 2 and (tmp_path / "sources" / f"{works['source_hash']}.cu").read_text() == WORKS

    bench = lines[8]
    assert bench["benchmark"]["problem"] == "rmsnorm" and bench["benchmark"]["grid"] == ["rows"]
    assert bench["benchmark"]["source_hash"] == works["source_hash"]
    if not bench["ok"]:  # no GPU here (and no emulator path yet): the tool error the agent got
        assert bench["error"]


async def test_the_trace_reads_back_summarised_and_rendered_as_markdown(tmp_path: Path):
    await _session(tmp_path)
    (summary,) = list_traces(tmp_path)
    assert summary.client == "test-agent"
    assert summary.skills_read == ["h100-cuda-kernels"]  # the refused read is not a skill read
    assert (summary.compiles, summary.compile_errors, summary.benchmarks) == (3, 1, 1)
    trace = load_trace(summary.id, tmp_path)
    markdown = render_markdown(trace)
    assert markdown.startswith(f"# Trace {summary.id}")
    assert "client: test-agent" in markdown
    assert "read `h100-cuda-kernels/SKILL.md`" in markdown
    assert "**errors**" in markdown and "error line 1:" in markdown
    assert "kernel `twice`:" in markdown and "benchmark rmsnorm" in markdown
    assert markdown.count("void twice(const float* x") == 1  # each source shown once
    assert "void twice(const float* x" not in render_markdown(trace, sources=False)


async def test_nothing_is_recorded_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    app = build(ServerConfig(use_env=False), RUNTIME)
    assert not any(isinstance(m, Recording) for m in sdk.lowlevel(app.server).middleware)
    async with Client(app.server) as client:
        await client.call_tool("compile_kernel", {"source": WORKS})
    assert list(tmp_path.iterdir()) == []


async def test_serve_record_writes_a_trace_over_stdio(tmp_path: Path):
    record = tmp_path / "record"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "kernel_skills.cli", "serve", "--no-bundled", "--record", str(record)],
        env={k: v for k, v in os.environ.items() if k != "KERNEL_SKILLS_PATH"},
    )
    async with Client(params, client_info=Implementation(name="stdio-agent", version="1")) as client:
        await client.call_tool("compile_kernel", {"source": BROKEN})
    (summary,) = list_traces(record)
    assert summary.client == "stdio-agent" and summary.compile_errors == 1


def test_the_cli_lists_shows_and_exports_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import anyio

    anyio.run(_session, tmp_path)
    assert main(["traces", "list", "--dir", str(tmp_path), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert main(["traces", "show", summary["id"], "--dir", str(tmp_path)]) == 0
    assert "## Steps" in capsys.readouterr().out
    out = tmp_path / "export.json"
    assert (
        main(["traces", "export", summary["id"], "--dir", str(tmp_path), "--format", "json", "-o", str(out)])
        == 0
    )
    exported = json.loads(out.read_text())
    assert len(exported["events"]) == 9 and len(exported["sources"]) == 2
    assert main(["traces", "show", "../../etc/passwd", "--dir", str(tmp_path)]) == 2
    assert "not a trace id" in capsys.readouterr().err


def test_a_trace_cut_mid_line_still_reads_and_a_corrupt_one_is_refused(tmp_path: Path):
    good = '{"seq":0,"at":"2026-01-01T00:00:00+00:00","elapsed_s":0,"kind":"session","method":"session"}'
    (tmp_path / "cut.jsonl").write_text(good + '\n{"seq":1,"at":"20', encoding="utf-8")
    assert len(load_trace("cut", tmp_path).events) == 1
    (tmp_path / "bad.jsonl").write_text("not json\n" + good + "\n", encoding="utf-8")
    with pytest.raises(RefusedInput, match=r"bad\.jsonl:1 is not a trace event"):
        load_trace("bad", tmp_path)


def test_a_timed_benchmark_renders_its_verdict_times_and_failed_checks():
    from kernel_skills.traces import BenchRecord, Trace, TraceEvent
    from kernel_skills.traces.models import CheckRecord

    bench = BenchRecord(
        problem="rmsnorm",
        kernel="rmsnorm",
        block=[256],
        grid=["rows"],
        compile_id="abc",
        correct=True,
        ok=True,
        checks_passed=6,
        checks_failed=[CheckRecord(name="rerun", detail="differs at [3]")],
        time_us=12.5,
        baseline_us={"torch_eager": 30.0},
        speedup={"torch_eager": 2.4},
        verified_on="cpu-emulator",
    )
    event = TraceEvent(
        seq=1,
        at="2026-01-01T10:00:00.000+00:00",
        elapsed_s=1,
        kind="benchmark",
        method="tools/call",
        benchmark=bench,
    )
    text = render_markdown(Trace(id="t", path="t.jsonl", events=[event]))
    assert "benchmark rmsnorm compile_id `abc` `rmsnorm`" in text and "**correct** on cpu-emulator" in text
    assert "median 12.5 us; baseline torch_eager 30.0 us; speedup torch_eager 2.40x" in text
    assert "failed rerun: differs at [3]" in text
    assert "best speedup over torch eager 2.40x" in text


def test_a_diagnostic_in_a_toolkit_header_is_recorded_and_shown_with_its_header() -> None:
    from kernel_skills.traces.records import compile_record

    result = {
        "ok": False,
        "diagnostics": [
            {"severity": "error", "line": 448, "message": "static_assert", "file": "cuda/std/array"},
            {"severity": "error", "line": 3, "message": "undefined", "file": "kernel.cu"},
        ],
    }
    record = compile_record({"source": "x"}, result, lambda text: "0" * 64)
    assert [d.where() for d in record.diagnostics] == ["cuda/std/array:448", "line 3"]
