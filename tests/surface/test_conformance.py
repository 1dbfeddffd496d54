"""The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, on Node 22 from npm)
against `kernel-skills serve --transport http`.

Both are pinned by tests/surface/conformance/package-lock.json and installed with `npm ci` into a cache
folder keyed by that lock (first run ~20 s, then reused). Skipped, with the reason, only where npm is
missing or the registry cannot be reached.

Every scenario is in one of the two tables below. APPLICABLE scenarios must pass every check. Many of the
suite's scenarios call its own fixture tools (`test_*`), `test://` resources and prompts of its reference
server; they cannot pass on a server that does not have them, and adding them to the product to pass
would be faking. They are listed in NEEDS_FIXTURE with the reason, and the test checks that each one that
fails does so for that reason (the evidence text in the suite's own message). A scenario the suite adds
that is in neither table fails the test until it is classified.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import anyio
import platformdirs
import pytest
from mcp_surface_support import free_port, http_server, server_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PINNED = Path(__file__).parent / "conformance"
SUITE = "node_modules/@modelcontextprotocol/conformance/dist/index.js"
NODE = "node_modules/node/bin/node"
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH")

APPLICABLE: dict[str, str] = {
    "server-initialize": "the initialize handshake and its capabilities",
    "ping": "ping answers {}",
    "logging-set-level": "logging/setLevel is accepted (the logging capability is declared)",
    "tools-list": "every tool has a name, description and input schema",
    "resources-list": "every resource has a uri and a name",
    "resources-subscribe": "resources/subscribe answers {}",
    "resources-unsubscribe": "resources/unsubscribe answers {}",
    "prompts-list": "every prompt has a name and a description",
    "server-sse-multiple-streams": "concurrent POST SSE streams on one session",
    "dns-rebinding-protection": "a foreign Host header is refused on localhost, the right one accepted",
}

# scenario -> (why it cannot pass here, text its failure message must contain)
NEEDS_FIXTURE: dict[str, tuple[str, str]] = {
    "completion-complete": (
        "completes an argument of the suite's prompt test_prompt_with_arguments; for an unknown prompt "
        "the spec's answer is -32602, which this server gives",
        "-32602: unknown prompt 'test_prompt_with_arguments'",
    ),
    "tools-call-simple-text": ("calls the fixture tool test_simple_text", ""),
    "tools-call-error": ("calls the fixture tool test_error_handling", ""),
    "tools-call-image": ("calls the fixture tool test_image_content", "No image content"),
    "tools-call-audio": ("calls the fixture tool test_audio_content", "No audio content"),
    "tools-call-embedded-resource": ("calls the fixture tool test_embedded_resource", "No resource content"),
    "tools-call-mixed-content": (
        "calls the fixture tool test_multiple_content_types",
        "Missing image content",
    ),
    "tools-call-with-logging": ("calls the fixture tool test_tool_with_logging", "No log notifications"),
    "tools-call-with-progress": (
        "calls the fixture tool test_tool_with_progress",
        "No progress notifications",
    ),
    "tools-call-sampling": ("calls the fixture tool test_sampling", "did not request sampling"),
    "tools-call-elicitation": ("calls the fixture tool test_elicitation", "did not request elicitation"),
    "elicitation-sep1034-defaults": (
        "calls the fixture tool test_elicitation_sep1034_defaults",
        "elicitation",
    ),
    "elicitation-sep1330-enums": ("calls the fixture tool test_elicitation_sep1330_enums", "elicitation"),
    "json-schema-2020-12": ("looks for the fixture tool json_schema_2020_12_tool", "not found"),
    "server-sse-polling": (
        "calls the fixture tool test_reconnection, which closes its stream mid-call (resumability itself is "
        "tested in test_resumable_http.py)",
        "Tool call failed",
    ),
    "resources-read-text": ("reads the fixture resource test://static-text", "not a skill URI"),
    "resources-read-binary": ("reads the fixture resource test://static-binary", "not a skill URI"),
    "resources-templates-read": ("reads the fixture template test://template/{id}/data", "not a skill URI"),
    "prompts-get-simple": ("gets the fixture prompt test_simple_prompt", "-32602: unknown prompt"),
    "prompts-get-with-args": ("gets the fixture prompt test_prompt_with_arguments", "-32602: unknown prompt"),
    "prompts-get-embedded-resource": (
        "gets the fixture prompt test_prompt_with_embedded_resource",
        "-32602: unknown prompt",
    ),
    "prompts-get-with-image": ("gets the fixture prompt test_prompt_with_image", "-32602: unknown prompt"),
}

_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


def tools_dir() -> Path:
    """Where the pinned suite is installed: a cache folder named after the lock file's digest."""
    digest = hashlib.sha256((PINNED / "package-lock.json").read_bytes()).hexdigest()[:16]
    base = os.environ.get("KERNEL_SKILLS_TEST_TOOLS") or platformdirs.user_cache_dir("kernel-skills-tests")
    return Path(base) / f"conformance-{digest}"


def install_suite() -> Path:
    folder = tools_dir()
    stamp = folder / ".installed"
    if stamp.is_file() and (folder / NODE).is_file() and (folder / SUITE).is_file():
        return folder
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the conformance suite and Node 22 come from npm")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PINNED / name, folder / name)
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        if any(code in output for code in NETWORK_ERRORS):
            pytest.skip(
                "the npm registry is unreachable, so the conformance suite cannot be installed: "
                + output[-300:]
            )
        pytest.fail(f"npm ci of the pinned conformance suite failed:\n{output[-3000:]}")
    if not (folder / NODE).is_file():
        pytest.fail(f"npm installed the node@22 package but not its binary {NODE}:\n{output[-2000:]}")
    stamp.write_text("ok\n")
    return folder


def read_results(out: Path) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    for checks in out.glob("*/checks.json"):
        match = _RESULT_DIR.match(checks.parent.name)
        assert match, f"unexpected result folder {checks.parent.name}"
        results[match["scenario"]] = json.loads(checks.read_text())
    return results


def failures(checks: list[dict]) -> list[str]:
    return [f"{c['id']}: {c.get('errorMessage', '')}" for c in checks if c["status"] == "FAILURE"]


def test_the_tables_classify_each_scenario_once():
    assert not set(APPLICABLE) & set(NEEDS_FIXTURE)
    assert len(APPLICABLE) + len(NEEDS_FIXTURE) == 32  # the suite's 32 server scenarios in 0.1.16


async def test_every_applicable_conformance_scenario_passes_over_http(tmp_path: Path):
    suite = await anyio.to_thread.run_sync(install_suite)
    port = free_port()
    out = tmp_path / "results"
    command = [
        str(suite / NODE),
        str(suite / SUITE),
        "server",
        "--url",
        f"http://127.0.0.1:{port}/mcp",
        "--suite",
        "all",
        "-o",
        str(out),
    ]
    async with http_server([], server_env(), port):  # the product as shipped: bundled skills
        with anyio.fail_after(300):
            run = await anyio.run_process(command, check=False, env={**os.environ, "HOME": str(tmp_path)})
    log = (run.stdout + run.stderr).decode(errors="replace")
    results = read_results(out)

    assert set(results) == set(APPLICABLE) | set(NEEDS_FIXTURE), f"scenarios changed:\n{log[-3000:]}"
    broken = {name: failures(results[name]) for name in APPLICABLE if failures(results[name])}
    assert not broken, f"applicable scenarios failed: {json.dumps(broken, indent=2)}"
    for name in APPLICABLE:
        assert any(c["status"] == "SUCCESS" for c in results[name]), name
    for name, (reason, evidence) in NEEDS_FIXTURE.items():
        for failure in failures(results[name]):
            assert evidence in failure, f"{name} ({reason}) failed for another reason: {failure}"
