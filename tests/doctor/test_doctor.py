"""`kernel-skills doctor`: each piece with its status and fix, one JSON document with --json, and the
real answer on a machine with a piece taken away (real child processes, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.doctor import DoctorReport, diagnose

from .processes import run_cli, run_python

CHECKS = [
    "nvrtc",
    "cuda-headers",
    "compile-confinement",
    "gxx",
    "emulator-engine",
    "emulator-confinement",
    "torch",
    "gpu",
    "cupy",
    "ray",
    "data-dir",
    "cache-dir",
]


def _doctor_json(tmp: Path, *argv: str, **kw: bool) -> tuple[int, DoctorReport]:
    done = run_cli(tmp, "doctor", "--json", *argv, **kw)
    return done.returncode, DoctorReport.model_validate(json.loads(done.stdout))


def test_every_check_has_a_status_and_every_check_not_ok_has_a_fix() -> None:
    report = diagnose(build=False)
    assert [c.name for c in report.checks] == CHECKS
    for check in report.checks:
        assert check.detail and check.needed_for
        assert check.status == "ok" or check.fix, check
    assert report.capabilities.compile, report.check("nvrtc")


def test_json_prints_one_document_and_exit_0_when_what_is_needed_works(tmp_path: Path) -> None:
    code, report = _doctor_json(tmp_path, "--no-build")
    assert code == (0 if report.ok else 1)
    assert [c.name for c in report.checks] == CHECKS
    assert report.check("data-dir").status == "ok"


def test_the_human_report_shows_each_piece_and_what_the_machine_can_do(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "doctor", "--no-build")
    lines = done.stdout.splitlines()
    for name in CHECKS:
        assert any(line.split()[1:2] == [name] for line in lines if line.strip()), name
    assert "compile_kernel: yes" in done.stdout
    assert "benchmark on a GPU:" in done.stdout


def test_the_doctor_imports_no_torch_ray_cupy_nor_the_mcp_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom kernel_skills.doctor import diagnose\ndiagnose(build=False)\n"
        "print(sorted(m for m in ('torch', 'ray', 'cupy', 'mcp') if m in sys.modules))"
    )
    done = run_python(tmp_path, code)
    assert done.stdout.strip() == "[]", done.stderr


def test_without_torch_the_doctor_names_it_with_the_install_command(tmp_path: Path) -> None:
    code, report = _doctor_json(tmp_path, "--no-build", hide_torch=True)
    torch = report.check("torch")
    assert (torch.status, torch.fix) == ("missing", "pip install torch==2.13.0")
    assert code == 1 and not report.ok
    assert not report.capabilities.emulator and report.capabilities.compile


def test_without_gxx_the_doctor_names_it_and_the_emulator_is_off(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "empty-cache"))  # no engine built yet
    code, report = _doctor_json(tmp_path, without_gxx=True)
    gxx, engine = report.check("gxx"), report.check("emulator-engine")
    assert gxx.status == "missing" and "apt-get install g++" in (gxx.fix or "")
    assert engine.status == "missing" and "g++" in engine.detail
    assert code == 1 and not report.capabilities.emulator and report.capabilities.compile


def test_a_data_dir_that_cannot_be_written_is_named_with_its_variable(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KERNEL_SKILLS_DATA_DIR", str(blocker / "data"))
    code, report = _doctor_json(tmp_path, "--no-build")
    data = report.check("data-dir")
    assert data.status == "missing" and "KERNEL_SKILLS_DATA_DIR" in data.detail
    assert "KERNEL_SKILLS_DATA_DIR" in (data.fix or "") and code == 1


@pytest.mark.slow
def test_the_doctor_builds_the_emulator_engine_when_it_is_not_built(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", str(tmp_path / "cache"))
    _, before = _doctor_json(tmp_path, "--no-build")
    assert "not built yet" in before.check("emulator-engine").detail
    _, after = _doctor_json(tmp_path)
    assert after.check("emulator-engine").status == "ok", after.check("emulator-engine")
    assert "built now" in after.check("emulator-engine").detail
