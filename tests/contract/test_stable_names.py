"""The stable names (docs/architecture.md), pinned in one place: the CLI, the MCP tools and resources,
and the result field names that users and agents depend on. Adding is free; renaming or removing
fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from tests.shared_runtime import RUNTIME

from kernel_skills.app import ServerConfig, build_server
from kernel_skills.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[2]

MCP_TOOLS = {
    "list_skills",
    "get_skill",
    "read_skill_file",
    "compile_kernel",
    "list_problems",
    "benchmark_kernel",
    "list_results",
}

MCP_PROMPTS = {"write_kernel": ["problem"], "optimise_kernel": ["attempt"], "review_skill": ["name"]}

CLI_COMMANDS = [
    [
        "serve",
        "--transport",
        "stdio",
        "--host",
        "127.0.0.1",
        "--port",
        "8765",
        "--skills-dir",
        "d",
        "--no-bundled",
    ],
    ["skills", "list", "--json"],
    ["skills", "validate", "a", "b", "--json"],
    ["compile", "k.cu", "--arch", "sm_90a", "--option", "-use_fast_math", "--json"],
    ["problems", "--json"],
    ["bench", "k.cu", "--problem", "rmsnorm", "--kernel", "rmsnorm", "--json"],
    ["calibrate", "--json"],
    ["kernels", "check", "kernels", "--json"],
    [
        "eval",
        "skills/h100-cuda-kernels",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:1/v1",
        "--runs",
        "2",
        "--json",
    ],
    ["serve", "--record", "traces"],
    ["eval", "skills/h100-cuda-kernels", "--agent", "--model", "m", "--max-turns", "4", "--json"],
    ["traces", "list", "--dir", "traces", "--json"],
    ["traces", "show", "T", "--json"],
    ["traces", "export", "T", "--format", "json", "-o", "t.json"],
    ["skills", "generate", "write a kernel", "--from", "T", "--model", "m", "--base-url", "http://x/v1"],
    ["skills", "refine", "skills/x", "--from-eval", "r.json", "--model", "m"],
    ["doctor", "--json", "--no-build", "--data-dir", "d"],
    ["serve", "--transport", "http", "--data-dir", "d", "--expose-paths"],
]


@pytest.mark.parametrize("argv", CLI_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_every_documented_cli_form_parses(argv: list[str]) -> None:
    from kernel_skills.cli import join_dash_values

    args = build_parser().parse_args(join_dash_values(argv))
    assert callable(args.func)


@pytest.mark.anyio
@pytest.mark.parametrize("client_mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
async def test_the_server_exposes_exactly_the_contracted_tools_with_output_schemas(client_mode: str) -> None:
    server = build_server(ServerConfig(bundled=True, use_env=False), RUNTIME)
    async with Client(server, mode=client_mode, cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        templates = (await client.list_resource_templates()).resource_templates
        resources = (await client.list_resources()).resources
        prompts = {p.name: [a.name for a in p.arguments or []] for p in (await client.list_prompts()).prompts}
    assert set(tools) >= MCP_TOOLS
    assert {name: prompts.get(name) for name in MCP_PROMPTS} == MCP_PROMPTS
    for name in MCP_TOOLS:
        assert tools[name].output_schema is not None, f"{name} must return structured content"
    assert [t.uri_template for t in templates] == ["skill://{name}/{+path}"]
    bundled = [r for r in resources if r.uri == "skill://h100-cuda-kernels/SKILL.md"]
    assert bundled and bundled[0].mime_type == "text/markdown" and bundled[0].size


def _properties(schema: dict, name: str) -> set[str]:
    """Property names of a model in a JSON schema, following one $ref into $defs."""
    node = schema["properties"][name]
    node = node.get("items", node)
    if "anyOf" in node:
        node = next(option for option in node["anyOf"] if option.get("type") != "null")
    node = node.get("items", node)
    ref = node["$ref"].rsplit("/", 1)[-1]
    return set(schema["$defs"][ref]["properties"])


def test_compile_result_fields_match_the_design() -> None:
    from kernel_skills.toolchain import CompileResult

    schema = CompileResult.model_json_schema()
    top = set(schema["properties"])
    assert {"ok", "arch", "diagnostics", "kernels", "sass", "lint", "cached", "compile_ms", "log"} <= top
    assert {"severity", "line", "column", "message"} <= _properties(schema, "diagnostics")
    assert {
        "name",
        "registers",
        "spill_stores",
        "spill_loads",
        "stack_bytes",
        "shared_bytes",
        "barriers",
    } <= _properties(schema, "kernels")
    assert {"rule", "message", "line"} <= _properties(schema, "lint")


def test_benchmark_result_fields_match_the_design() -> None:
    from kernel_skills.bench.models import BenchResult

    schema = BenchResult.model_json_schema()
    top = set(schema["properties"])
    assert {
        "ok",
        "correct",
        "checks",
        "time_us",
        "baseline_us",
        "speedup",
        "achieved",
        "roofline",
        "kernel",
        "device",
    } <= top
    assert {"name", "passed", "detail"} <= _properties(schema, "checks")
    assert {"median", "mean", "std", "n"} <= _properties(schema, "time_us")
    assert {"gbps", "tflops"} <= _properties(schema, "achieved")
    assert {"bound", "floor_us", "fraction_of_peak"} <= _properties(schema, "roofline")


def test_validate_result_fields_match_the_design() -> None:
    from kernel_skills.catalog.models import ValidationResult

    schema = ValidationResult.model_json_schema()
    assert {"path", "name", "valid", "errors", "warnings"} <= set(schema["properties"])
    assert {"field", "message"} <= _properties(schema, "errors")


def test_mcp_json_starts_the_server_over_stdio() -> None:
    config = json.loads((REPO_ROOT / "mcp.json").read_text(encoding="utf-8"))
    entry = config["mcpServers"]["kernel-skills"]
    assert entry["type"] == "stdio"
    assert entry["args"][:3] == ["serve", "--transport", "stdio"]
