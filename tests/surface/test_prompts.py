"""Prompts (write_kernel, optimise_kernel, review_skill) and completions, over the real MCP client.

Each prompt renders from live data; a wrong name or argument is JSON-RPC -32602 with a message saying
what is accepted, on both protocol generations."""

from __future__ import annotations

import pytest
from mcp import Client, MCPError
from mcp_types import INVALID_PARAMS, PromptReference, ResourceTemplateReference
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build
from kernel_skills.bench import results_db
from kernel_skills.bench.models import BenchResult, Check, DeviceInfo, KernelInfo, Provenance
from kernel_skills.bench.roofline import Peaks, assess
from kernel_skills.bench.stats import summarize
from kernel_skills.toolchain import CompileRequest, compile_source

pytestmark = pytest.mark.anyio

TEMPLATE = ResourceTemplateReference(uri="skill://{name}/{+path}")


def _stored_result(*, correct: bool) -> int:
    return results_db.store(
        BenchResult(
            ok=correct,
            correct=correct,
            problem="rmsnorm",
            checks=[Check(name="correct on ragged", passed=correct, detail="3 of 4096 elements differ")],
            time_us=summarize([40.0, 40.0, 40.0]),
            speedup={"torch_eager": 2.5},
            roofline=assess(10**8, 10**6, 40.0, Peaks(copy_gbps=3000, bf16_tflops=800)),
            kernel=KernelInfo(name="rmsnorm_kernel", registers=40, spill_stores=0, spill_loads=0),
            device=DeviceInfo(name="NVIDIA H100 80GB HBM3"),
            provenance=Provenance(kernel_skills="0.1.0", date="2026-12-01T00:00:00+00:00"),
        )
    )


async def _text(client, name: str, arguments: dict[str, str]) -> str:
    result = await client.get_prompt(name, arguments)
    assert len(result.messages) == 1 and result.messages[0].role == "user"
    return result.messages[0].content.text


async def test_prompts_list_offers_the_three_workflows_with_required_arguments(app, connect):
    async with connect(app.server) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"write_kernel", "optimise_kernel", "review_skill"}
    for prompt in prompts.values():
        assert prompt.description and prompt.title
        assert prompt.arguments and all(a.required and a.description for a in prompt.arguments)
    assert [a.name for a in prompts["write_kernel"].arguments] == ["problem"]


async def test_write_kernel_renders_the_problems_signature_and_the_tool_loop(app, connect):
    async with connect(app.server) as client:
        text = await _text(client, "write_kernel", {"problem": "rmsnorm"})
    assert 'extern "C" __global__ void KERNEL(' in text
    assert 'benchmark_kernel(problem="rmsnorm"' in text and "compile_kernel" in text
    assert 'list_results(problem="rmsnorm")' in text
    # the test catalog has no h100-cuda-kernels skill: the prompt says so instead of pointing at nothing
    assert "is not served here" in text


async def test_write_kernel_points_at_the_bundled_skill_when_it_is_served():
    app = build(ServerConfig(use_env=False), RUNTIME)  # bundled skills only
    async with Client(app.server, mode="legacy") as client:
        text = await _text(client, "write_kernel", {"problem": "gelu_tanh"})
    assert "skill://h100-cuda-kernels/SKILL.md" in text


async def test_optimise_kernel_renders_a_stored_result_with_its_failed_checks(app, connect):
    result_id = _stored_result(correct=False)
    async with connect(app.server) as client:
        text = await _text(client, "optimise_kernel", {"attempt": str(result_id)})
    assert f"benchmark result {result_id}" in text
    assert "NOT correct" in text and "3 of 4096 elements differ" in text
    assert "40.00 us" in text and "2.50x" in text and "rmsnorm_kernel" in text
    assert "memory-bound-kernels.md" in text


async def test_optimise_kernel_on_an_emulator_result_iterates_on_the_counters_not_a_median(app, connect):
    from pathlib import Path

    from kernel_skills.bench.models import BenchRequest
    from kernel_skills.dispatch import benchmark

    source = (Path(__file__).parents[1] / "bench" / "good_kernels" / "gelu_tanh.cu").read_text()
    request = BenchRequest(
        problem="gelu_tanh", source=source, block=[256], grid=["ceil_div(n, 256)"], device="emulator"
    )
    result = benchmark(request, runtime=RUNTIME)
    assert result.correct and result.result_id is not None
    async with connect(app.server) as client:
        text = await _text(client, "optimise_kernel", {"attempt": str(result.result_id)})
    assert "no GPU timed this kernel: there is no median; iterate on the counters" in text
    assert "median drops" not in text and "Counters (CPU emulator, one launch at" in text
    assert "H100 estimate:" in text and "not a measurement" in text
    assert "2-byte accesses" in text and "reading-reports.md#counter-narrow-access" in text


async def test_optimise_kernel_renders_a_compile_report_by_compile_id(app, connect):
    source = 'extern "C" __global__ void k(float* x) { x[threadIdx.x] = 1.0f; }\n'
    report = compile_source(CompileRequest(source=source, block_size=128), toolchain=RUNTIME.toolchain)
    assert report.ok and report.compile_id
    async with connect(app.server) as client:
        text = await _text(client, "optimise_kernel", {"attempt": report.compile_id})
    assert f"compile {report.compile_id}" in text
    assert "Kernel `k`" in text and "registers" in text
    assert f'compile_id="{report.compile_id}"' in text


async def test_review_skill_renders_findings_for_served_and_invalid_skills(app, connect):
    async with connect(app.server) as client:
        served = await _text(client, "review_skill", {"name": "alpha"})
        broken = await _text(client, "review_skill", {"name": "not-the-folder-name"})
    assert "Review the skill `alpha`" in served and "references/guide.md" in served
    assert "Review checklist" in served and "kernel-skills eval" in served
    assert "NOT served because it is invalid" in broken and "Validation errors" in broken


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("no_such_prompt", {}, "unknown prompt 'no_such_prompt'; this server offers: write_kernel"),
        ("write_kernel", {}, "needs the argument 'problem'"),
        ("write_kernel", {"problem": "  "}, "needs the argument 'problem'"),
        ("write_kernel", {"problem": "rmsnorm", "extra": "x"}, "has no argument 'extra'"),
        ("write_kernel", {"problem": "no-such-problem"}, "unknown problem 'no-such-problem'; available:"),
        ("optimise_kernel", {"attempt": "999999"}, "no stored benchmark result 999999"),
        ("optimise_kernel", {"attempt": "0" * 32}, "no stored compile"),
        ("optimise_kernel", {"attempt": "../etc/passwd"}, "neither a benchmark result id"),
        ("optimise_kernel", {"attempt": "9" * 40}, "neither a benchmark result id"),
        ("optimise_kernel", {"attempt": "9" * 5000}, "at most 4096 are accepted"),
        ("review_skill", {"name": "ghost"}, "no skill named 'ghost'"),
    ],
)
async def test_bad_prompt_names_and_arguments_are_invalid_params_saying_what_is_accepted(
    app, connect, name, arguments, expected
):
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, arguments)
        await client.list_prompts()  # the server keeps serving
    assert caught.value.error.code == INVALID_PARAMS
    assert expected in caught.value.error.message


async def test_completion_offers_problem_names_result_ids_and_skill_names(
    app, connect, tmp_path, monkeypatch
):
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(tmp_path / "data"))  # only this test's results
    result_id = _stored_result(correct=True)
    async with connect(app.server) as client:
        problems = await client.complete(
            PromptReference(name="write_kernel"), {"name": "problem", "value": "rms"}
        )
        attempts = await client.complete(
            PromptReference(name="optimise_kernel"), {"name": "attempt", "value": ""}
        )
        skills = await client.complete(PromptReference(name="review_skill"), {"name": "name", "value": ""})
    assert problems.completion.values == ["rmsnorm", "rmsnorm_noweight"]
    assert problems.completion.total == 2 and problems.completion.has_more is False
    assert attempts.completion.values == [str(result_id)]
    assert skills.completion.values == ["alpha", "beta", "not-the-folder-name"]


async def test_completion_of_the_skill_template_gives_names_then_that_skills_paths(app, connect):
    async with connect(app.server) as client:
        names = await client.complete(TEMPLATE, {"name": "name", "value": "AL"})
        paths = await client.complete(TEMPLATE, {"name": "path", "value": "ref"}, {"name": "alpha"})
        all_paths = await client.complete(TEMPLATE, {"name": "path", "value": ""}, {"name": "alpha"})
        no_skill = await client.complete(TEMPLATE, {"name": "path", "value": ""})
    assert names.completion.values == ["alpha"]
    assert paths.completion.values == ["references/guide.md"]
    assert all_paths.completion.values == ["assets/logo.png", "references/guide.md"]  # SKILL.md has its own
    assert no_skill.completion.values == []


@pytest.mark.parametrize(
    ("ref", "argument", "expected"),
    [
        (PromptReference(name="test_prompt_with_arguments"), "arg1", "unknown prompt"),
        (PromptReference(name="write_kernel"), "arg1", "has no argument 'arg1'"),
        (ResourceTemplateReference(uri="test://template/{id}/data"), "id", "no resource template"),
        (TEMPLATE, "other", "has the variables name and path"),
    ],
)
async def test_completion_for_an_unknown_reference_is_invalid_params(app, connect, ref, argument, expected):
    async with connect(app.server) as client:
        with pytest.raises(MCPError) as caught:
            await client.complete(ref, {"name": argument, "value": ""})
    assert caught.value.error.code == INVALID_PARAMS
    assert expected in caught.value.error.message


async def test_the_handshake_declares_prompts_completions_and_logging(app):
    async with Client(app.server, mode="legacy") as client:
        capabilities = client.server_capabilities
    assert capabilities.prompts is not None
    assert capabilities.completions is not None
    assert capabilities.logging is not None
