"""What a newcomer meets on `kernel-skills serve`: the banner only once the port is bound (and naming
where results go), one clear error for a taken port, --data-dir, completions and list_results only for
the problems this server serves, and no absolute server paths unless --expose-paths. Real server
processes, real sockets, the real MCP client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp_surface_support import SERVE, free_port, server_env
from mcp_types import PromptReference

from kernel_skills import paths
from kernel_skills.bench import results_db
from kernel_skills.bench.models import BenchResult, Check, Provenance

BANNER = "serving MCP over streamable HTTP at"


def _serve_http(port: int, *extra: str, data_dir: Path | None = None) -> list[str]:
    args = [*SERVE, "--transport", "http", "--port", str(port), "--no-bundled", *extra]
    return [*args, "--data-dir", str(data_dir)] if data_dir else args


@pytest.mark.anyio
async def test_the_banner_comes_once_the_port_accepts_and_names_the_results_db(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "project-data"
    command = _serve_http(port, data_dir=data)
    async with await anyio.open_process(command, env=server_env(), stdout=subprocess.DEVNULL) as process:
        assert process.stderr is not None
        seen = ""
        try:
            with anyio.fail_after(60):
                async for chunk in process.stderr:
                    seen += chunk.decode()
                    if "Results DB:" in seen and seen.endswith("\n"):
                        break
            # No retry: the banner is a promise that the port is bound and listening.
            stream = await anyio.connect_tcp("127.0.0.1", port)
            await stream.aclose()
        finally:
            process.terminate()
            with anyio.fail_after(30):
                await process.wait()
    assert BANNER in seen and f"claude mcp add --transport http kernel-skills http://127.0.0.1:{port}" in seen
    assert f"Results DB:   {data / 'results.sqlite3'}" in seen and "--data-dir" in seen
    assert data.is_dir()


def test_a_taken_port_is_one_clear_error_and_no_banner(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = subprocess.run(
            _serve_http(port), env=server_env(), capture_output=True, text=True, timeout=120, check=False
        )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error (")]
    assert errors == [
        f"error (RefusedInput): port {port} on 127.0.0.1 is already in use (another kernel-skills "
        "serve?): stop that process, or choose another port with --port"
    ]
    assert BANNER not in done.stderr and "claude mcp add" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_data_dir_that_cannot_be_made_is_refused_before_serving(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    done = subprocess.run(
        [*SERVE, "--data-dir", str(blocker / "data")],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and f"--data-dir {blocker / 'data'}: cannot create it" in done.stderr


def test_the_default_data_dir_is_the_users_never_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(paths.DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    found = paths.data_dir()
    assert found.is_absolute() and tmp_path not in (found, *found.parents)
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert paths.data_dir() == tmp_path / "elsewhere"


def test_the_doctor_checks_the_data_dir_it_is_given(tmp_path: Path) -> None:
    command = [*SERVE[:-1], "doctor", "--json", "--no-build", "--data-dir", str(tmp_path / "d")]
    done = subprocess.run(command, env=server_env(), capture_output=True, text=True, timeout=120, check=False)
    data = next(c for c in json.loads(done.stdout)["checks"] if c["name"] == "data-dir")
    assert data["status"] == "ok" and data["detail"].startswith(str(tmp_path / "d"))


def _store(problem: str) -> int:
    return results_db.store(
        BenchResult(
            ok=True,
            correct=True,
            problem=problem,
            checks=[Check(name="correct", passed=True)],
            provenance=Provenance(kernel_skills="0.1.0", date="2026-12-07T00:00:00+00:00"),
        )
    )


@pytest.mark.anyio
async def test_attempt_completions_and_list_results_cover_only_the_problems_served(
    app, connect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "shared-data"))  # a DB two servers share
    ours = _store("rmsnorm")
    _store("another_projects_op")  # stored by a server with other problems
    async with connect(app.server) as client:
        attempts = await client.complete(
            PromptReference(name="optimise_kernel"), {"name": "attempt", "value": ""}
        )
        theirs = await client.call_tool("list_results", {"problem": "another_projects_op"})
        mine = await client.call_tool("list_results", {"problem": "rmsnorm"})
    assert attempts.completion.values == [str(ours)]
    assert theirs.is_error and "another_projects_op" in theirs.content[0].text
    assert [r["id"] for r in mine.structured_content["results"]] == [ours]


def _absolute_paths_in(text: str, root: Path) -> bool:
    return any(form in text for form in {str(root), os.path.realpath(root), str(root.parent)})


@pytest.mark.anyio
async def test_list_skills_and_review_skill_show_root_labels_not_server_paths(
    skills_root: Path, make_app, connect
) -> None:
    async with connect(make_app(skills_root).server) as client:
        listing = await client.call_tool("list_skills", {})
        served = await client.get_prompt("review_skill", {"name": "alpha"})
        broken = await client.get_prompt("review_skill", {"name": "not-the-folder-name"})
    shown = json.dumps(listing.structured_content) + " ".join(c.text for c in listing.content)
    assert not _absolute_paths_in(shown, skills_root), shown
    by_name = {s["name"]: s for s in listing.structured_content["skills"]}
    assert by_name["alpha"]["location"] == "cli:skills/alpha" and by_name["alpha"]["root"] == "cli:skills"
    assert listing.structured_content["invalid"][0]["location"] == "cli:skills/broken"
    for prompt in (served, broken):
        text = prompt.messages[0].content.text
        assert not _absolute_paths_in(text, skills_root) and "cli:skills/" in text


@pytest.mark.anyio
async def test_expose_paths_shows_the_server_paths(skills_root: Path, make_app, connect) -> None:
    async with connect(make_app(skills_root, expose_paths=True).server) as client:
        listing = await client.call_tool("list_skills", {})
        served = await client.get_prompt("review_skill", {"name": "alpha"})
    assert listing.structured_content["skills"][0]["location"] == str(skills_root / "alpha")
    assert str(skills_root / "alpha") in served.messages[0].content.text


def test_the_cli_listing_on_the_users_own_machine_keeps_real_paths(
    skills_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kernel_skills.cli import main

    main(["skills", "list", "--json", "--no-bundled", "--skills-dir", str(skills_root)])
    listing = json.loads(capsys.readouterr().out)
    assert listing["skills"][0]["location"] == str(skills_root / "alpha")
