"""What the model reads, budgeted (issue 21): real responses of the real server through the official
client. About 4 characters a token: tool names + descriptions + input schemas <= 1,800 tokens in all
(output schemas are for applications, not counted); a correct emulator verdict's text <= 250 tokens,
a failed one <= 400; a compile report <= 300; one problem <= 250. The structured result stays whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build
from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
from kernel_skills.bench.registry import load_registry

pytestmark = pytest.mark.anyio
CHARS_PER_TOKEN = 4
GOOD = Path(__file__).parents[1] / "bench" / "good_kernels" / "gelu_tanh.cu"
WRONG = Path(__file__).parents[1] / "bench" / "wrong_kernels" / "off_by_one.cu"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(FORCE_NO_DEVICE_ENV, "1")
    return build(ServerConfig(use_env=False), RUNTIME).server


def _tokens(text: str) -> float:
    return len(text) / CHARS_PER_TOKEN


async def test_tool_names_descriptions_and_input_schemas_fit_1800_tokens(server) -> None:
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    sizes = {t.name: len(t.name) + len(t.description or "") + len(json.dumps(t.input_schema)) for t in tools}
    assert _tokens("".join("x" * n for n in sizes.values())) <= 1800, sizes
    assert all(t.output_schema for t in tools if t.name in ("benchmark_kernel", "compile_kernel"))


async def test_emulator_verdicts_are_short_text_beside_the_whole_structured_result(server) -> None:
    launch = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "block": 256, "grid": "ceil_div(n, 256)"}
    async with Client(server) as client:
        good = await client.call_tool("benchmark_kernel", {**launch, "source": GOOD.read_text()})
        wrong = await client.call_tool("benchmark_kernel", {**launch, "source": WRONG.read_text()})
    text = good.content[0].text
    assert not good.is_error and _tokens(text) <= 250, (len(text), text)
    assert text.startswith("CORRECT on the CPU emulator (not timed: timing needs a GPU)")
    assert "H100 estimate" in text and "a model, not a measurement" in text and "2-byte accesses" in text
    assert good.structured_content["counters"]["lines"] and good.structured_content["limits"]
    text = wrong.content[0].text
    assert not wrong.is_error and _tokens(text) <= 400, (len(text), text)
    assert text.startswith("INCORRECT on the CPU emulator") and "FAILED correct on emulator (n=1)" in text
    assert "the kernel wrote nothing" in text and "next: fix the first failed check" in text
    assert wrong.structured_content["correct"] is False


async def test_a_compile_report_fits_300_tokens_with_its_lint_or_its_errors(server) -> None:
    scalar = GOOD.read_text()
    broken = scalar.replace("float v =", "float v = undefined_name +")
    async with Client(server) as client:
        ok = await client.call_tool("compile_kernel", {"source": scalar, "block_size": 100})
        bad = await client.call_tool("compile_kernel", {"source": broken})
    text = ok.content[0].text
    assert _tokens(text) <= 300, (len(text), text)
    assert "kernel gelu_tanh:" in text and "occupancy" in text and "- block-size-multiple-of-32:" in text
    assert f'compile_id="{ok.structured_content["compile_id"]}"' in text
    text = bad.content[0].text
    assert _tokens(text) <= 300 and "FAILED" in text and "undefined_name" in text, text
    assert bad.structured_content["diagnostics"]


async def test_one_problem_fits_250_tokens_and_the_listing_is_one_line_each(server) -> None:
    names = load_registry(use_env=False).names()
    async with Client(server) as client:
        listing = await client.call_tool("list_problems", {})
        for name in names:
            one = await client.call_tool("list_problems", {"name": name})
            text = one.content[0].text
            assert _tokens(text) <= 250, (name, len(text), text)
            assert text.startswith(f"{name}: ") and 'extern "C" __global__ void KERNEL(' in text
            assert [p["name"] for p in one.structured_content["problems"]] == [name]
        unknown = await client.call_tool("list_problems", {"name": "nope"})
    assert len(listing.content[0].text.splitlines()) == len(names) + 1
    assert unknown.is_error and "unknown problem 'nope'" in unknown.content[0].text


async def test_launch_fields_accept_plain_forms_and_refuse_others_showing_the_accepted_ones(server) -> None:
    launch = {"problem": "gelu_tanh", "kernel": "gelu_tanh", "source": GOOD.read_text()}
    async with Client(server) as client:
        as_string = await client.call_tool(
            "benchmark_kernel", {**launch, "block": "256", "grid": "ceil_div(n, 256)"}
        )
        as_list = await client.call_tool(
            "benchmark_kernel", {**launch, "block": [256], "grid": ["ceil_div(n, 256)"]}
        )
        bad = await client.call_tool(
            "benchmark_kernel", {**launch, "block": "many", "grid": "ceil_div(n, 256)"}
        )
    assert as_string.structured_content["correct"] and as_list.structured_content["correct"]
    assert as_string.structured_content["launch"] == as_list.structured_content["launch"]
    text = bad.content[0].text
    assert bad.is_error and "block.0" in text and "'many'" in text and "Accepted launch forms" in text
    assert "errors.pydantic.dev" not in text
