"""Real server processes: stdio started from the command in mcp.json, and streamable HTTP on loopback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_surface_support import REPO_ROOT, SERVE, free_port, http_server, server_env

pytestmark = pytest.mark.anyio

MCP_JSON = REPO_ROOT / "mcp.json"
CLIENT_INFO = {"name": "test", "version": "1"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": CLIENT_INFO},
}


def mcp_json_server() -> tuple[str, list[str]]:
    entry = json.loads(MCP_JSON.read_text())["mcpServers"]["kernel-skills"]
    assert entry["type"] == "stdio"
    command = entry["command"]
    if not (REPO_ROOT / command).exists():
        pytest.skip(f"{command} (from mcp.json) does not exist: run `make install` first")
    return command, entry["args"]


@pytest.mark.parametrize("client_mode", ["auto", "legacy"])
async def test_stdio_server_started_from_mcp_json_serves_skills(skills_root: Path, client_mode: str):
    command, args = mcp_json_server()
    params = StdioServerParameters(
        command=command, args=args, cwd=REPO_ROOT, env=server_env(KERNEL_SKILLS_PATH=str(skills_root))
    )
    with anyio.fail_after(60):
        async with Client(params, mode=client_mode, cache=None) as client:
            uris = {r.uri for r in (await client.list_resources()).resources}
            assert {"skill://alpha/SKILL.md", "skill://beta/SKILL.md"} <= uris
            [content] = (await client.read_resource("skill://alpha/references/guide.md")).contents
            assert "ALPHA-GUIDE-MARKER" in content.text
            result = await client.call_tool("get_skill", {"name": "beta"})
            assert not result.is_error and result.structured_content["name"] == "beta"


async def test_stdio_stdout_carries_only_json_rpc(skills_root: Path):
    """Raw pipe check: every stdout line is a JSON-RPC message (logs go to stderr)."""
    requests = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "resources/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "skill://alpha/../x"}},
    ]
    command = [*SERVE, "--transport", "stdio", "--no-bundled", "--skills-dir", str(skills_root)]
    async with await anyio.open_process(command, env=server_env()) as process:
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.send("".join(json.dumps(r) + "\n" for r in requests).encode())
        reader = BufferedByteReceiveStream(process.stdout)
        answers: dict[int, dict] = {}
        with anyio.fail_after(60):
            while len(answers) < 3:
                message = json.loads(await reader.receive_until(b"\n", 1 << 24))
                assert message["jsonrpc"] == "2.0"
                if "id" in message:
                    answers[message["id"]] = message
        await process.stdin.aclose()
        with anyio.fail_after(30):
            await process.wait()
    assert answers[1]["result"]["serverInfo"]["name"] == "kernel-skills"
    assert len(answers[2]["result"]["resources"]) == 2
    assert answers[3]["error"]["code"] == -32602


async def test_http_serves_mcp_at_slash_mcp_on_loopback_and_prints_how_to_connect(skills_root: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    args = ["--no-bundled", "--skills-dir", str(skills_root)]
    async with http_server(args, server_env(), port) as process:
        for mode in ("auto", "legacy"):
            async with Client(url, mode=mode, cache=None) as client:
                uris = [r.uri for r in (await client.list_resources()).resources]
                assert uris == ["skill://alpha/SKILL.md", "skill://beta/SKILL.md"]
                result = await client.call_tool("list_skills", {})
                assert [s["name"] for s in result.structured_content["skills"]] == ["alpha", "beta"]
        process.terminate()
        assert process.stderr is not None
        with anyio.fail_after(30):
            banner = b"".join([chunk async for chunk in process.stderr]).decode()
    assert f"claude mcp add --transport http kernel-skills {url}" in banner
    assert '"mcpServers"' in banner and f'"url": "{url}"' in banner


async def test_http_with_a_token_answers_401_without_the_bearer_header(skills_root: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    token = "test-secret-token-0123456789"
    args = ["--no-bundled", "--skills-dir", str(skills_root)]
    headers = {"accept": "application/json, text/event-stream"}
    async with http_server(args, server_env(KERNEL_SKILLS_TOKEN=token), port):
        async with httpx.AsyncClient(timeout=30) as http:
            missing = await http.post(url, json=INITIALIZE, headers=headers)
            wrong = await http.post(url, json=INITIALIZE, headers={**headers, "authorization": "Bearer nope"})
        for response in (missing, wrong):
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "KERNEL_SKILLS_TOKEN" in response.json()["message"]
        authorized = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        transport = streamable_http_client(url, http_client=authorized)
        async with authorized, Client(transport, cache=None) as client:
            uris = [r.uri for r in (await client.list_resources()).resources]
        assert uris == ["skill://alpha/SKILL.md", "skill://beta/SKILL.md"]


@pytest.mark.parametrize(
    ("extra", "env", "expected"),
    [
        (["--host", "0.0.0.0"], {}, "--allow-remote"),
        (["--host", "0.0.0.0", "--allow-remote"], {}, "KERNEL_SKILLS_TOKEN"),
        (["--host", "192.0.2.10"], {"KERNEL_SKILLS_TOKEN": "t"}, "--allow-remote"),
    ],
)
def test_http_refuses_to_bind_a_non_loopback_address_without_consent_and_token(extra, env, expected):
    done = subprocess.run(
        [*SERVE, "--transport", "http", "--no-bundled", *extra],
        env=server_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert expected in done.stderr
    assert "refusing to bind" in done.stderr
    assert done.stdout == ""
