"""`kernel-skills compile`: exit 0 compiled, 1 compile errors, 2 refused input; --json is one document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.cli import main

from .conftest import KERNELS


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))


def test_clean_kernel_exits_0_and_prints_kernels_features_and_lint(capsys):
    code = main(["compile", str(KERNELS / "float4_scale.cu"), "--block-size", "250"])
    out = capsys.readouterr().out

    assert code == 0
    assert "scale_float4" in out and "regs" in out and "occupancy" in out
    assert "SASS features: ldg.128" in out
    assert "[block-size-multiple-of-32]" in out
    assert "compile id: " in out


def test_compile_error_exits_1_with_a_code_frame(capsys):
    code = main(["compile", str(KERNELS / "syntax_error.cu")])
    out = capsys.readouterr().out

    assert code == 1
    assert f'{KERNELS / "syntax_error.cu"}:3:3: error: expected a ";"' in out
    assert "> 3 |" in out and "^" in out


def test_json_output_is_one_document_with_the_full_report(capsys):
    code = main(["compile", str(KERNELS / "pressure.cu"), "--option=-maxrregcount=32", "--ptx", "--json"])
    doc = json.loads(capsys.readouterr().out)

    assert code == 0
    assert doc["ok"] is True and doc["kernels"][0]["spill_stores"] > 0
    assert {"rule", "message", "line", "doc"} <= set(doc["lint"][0])
    assert doc["ptx"].lstrip().startswith("//")


def test_json_compile_error_exits_1(capsys):
    assert main(["compile", str(KERNELS / "syntax_error.cu"), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["diagnostics"][0]["line"] == 3


@pytest.mark.parametrize(
    "extra",
    [
        ["--option=-I/etc"],
        ["--arch", "sm_75"],
        ["--block-size", "4096"],
        ["--header", "no-equals-sign"],
        ["--header", "x.h=/does/not/exist.h"],
    ],
)
def test_refused_input_exits_2_with_a_json_error(capsys, extra):
    code = main(["compile", str(KERNELS / "float4_scale.cu"), *extra, "--json"])
    captured = capsys.readouterr()

    assert code == 2
    assert json.loads(captured.out)["error"]["type"] == "RefusedInput"
    assert "error (RefusedInput)" in captured.err


def test_missing_file_exits_2(capsys, tmp_path):
    assert main(["compile", str(tmp_path / "nope.cu")]) == 2
    assert "cannot read source file" in capsys.readouterr().err


def test_inline_header_from_a_file(capsys, tmp_path):
    (tmp_path / "common.cuh").write_text("#define SCALE 2.0f\n")
    source = tmp_path / "k.cu"
    source.write_text('#include "common.cuh"\nextern "C" __global__ void k(float* p) { p[0] = SCALE; }\n')
    code = main(["compile", str(source), "--header", f"common.cuh={tmp_path / 'common.cuh'}"])
    assert code == 0, capsys.readouterr().out


def _compile_json(tmp_path: Path, *flags: str) -> dict:
    """Run the CLI in its own process: the opt-in sets the process's environment for good."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "KERNEL_SKILLS_UNCONFINED"}
    env["KERNEL_SKILLS_CACHE_DIR"] = str(tmp_path / "cli-cache")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kernel_skills.cli",
            "compile",
            str(KERNELS / "float4_scale.cu"),
            "--json",
            *flags,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compile_reports_its_confinement_and_unconfined_needs_the_explicit_flag(tmp_path: Path):
    confined = _compile_json(tmp_path)["sandbox"]
    assert confined["confined"] and confined["method"] != "unconfined"
    unconfined = _compile_json(tmp_path / "second", "--unconfined-compile")["sandbox"]
    assert (unconfined["confined"], unconfined["method"]) == (False, "unconfined")
