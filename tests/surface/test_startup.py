"""Start-up stays light: no GPU library at server build time, no MCP SDK for `kernel-skills --help`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from mcp_surface_support import server_env

HEAVY = ("torch", "cupy", "cuda", "numpy", "nvidia")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", script], env=server_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_building_the_server_imports_no_gpu_library():
    loaded = _modules_after(
        "from kernel_skills.app import ServerConfig, build\nbuild(ServerConfig(bundled=False, use_env=False))"
    )
    assert not loaded & set(HEAVY), f"imported at build time: {sorted(loaded & set(HEAVY))}"


def test_cli_help_does_not_import_the_mcp_sdk():
    loaded = _modules_after("from kernel_skills.cli import build_parser\nbuild_parser()")
    assert "mcp" not in loaded
    assert not loaded & set(HEAVY)


def test_serve_help_lists_the_documented_options():
    done = subprocess.run(
        [sys.executable, "-m", "kernel_skills.cli", "serve", "--help"],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    for option in (
        "--transport",
        "--host",
        "--port",
        "--skills-dir",
        "--no-bundled",
        "--agent-dirs",
        "--allow-remote",
        "--unconfined",
    ):
        assert option in done.stdout


def _serve_stderr(*args: str, **env: str) -> str:
    """Start the stdio server with stdin at end of input (it starts, then stops) and read its log."""
    done = subprocess.run(
        [sys.executable, "-m", "kernel_skills.cli", "serve", "--no-bundled", *args],
        env=server_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stderr


def test_serve_warns_at_start_when_compiles_would_run_unconfined():
    log = _serve_stderr("--unconfined")
    assert "compile confinement weaker than the default" in log and "--unconfined" in log


def test_serve_still_accepts_the_deprecated_unconfined_compile_flag():
    log = _serve_stderr("--unconfined-compile")
    assert "compile confinement weaker than the default: KERNEL_SKILLS_UNCONFINED=1 (--unconfined)" in log


@pytest.mark.parametrize("old", ["KERNEL_SKILLS_UNCONFINED_COMPILE", "KERNEL_SKILLS_UNCONFINED_EMULATOR"])
def test_serve_names_the_new_variable_at_start_when_a_retired_one_is_set(old: str):
    log = _serve_stderr(**{old: "1"})
    assert f"{old} is no longer read; set KERNEL_SKILLS_UNCONFINED=1" in log
    assert "NVRTC runs unconfined" not in log  # the old name no longer loosens anything


def test_serve_warns_at_start_when_one_confinement_wall_is_missing():
    log = _serve_stderr(KERNEL_SKILLS_SANDBOX_WITHOUT="landlock")
    assert "compile confinement weaker than the default: Landlock is not available" in log


def test_serve_does_not_warn_with_the_default_confinement():
    from kernel_skills.confine import weaker_than_default

    if weaker_than_default() is not None:
        pytest.skip(f"this machine's confinement is weaker than the default: {weaker_than_default()}")
    assert "confinement" not in _serve_stderr()
