"""One opt-out, one variable: ``KERNEL_SKILLS_UNCONFINED=1`` (``--unconfined``) is the only setting that
loosens confinement; the retired per-child names are not read (fail closed) but are named where the
user looks: the doctor and the server's start-up log."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from kernel_skills import confine
from kernel_skills.cli import build_parser
from kernel_skills.confine import policy
from kernel_skills.doctor import check_compile_confinement, check_emulator_confinement
from kernel_skills.errors import DeviceUnavailable

RETIRED = ("KERNEL_SKILLS_UNCONFINED_COMPILE", "KERNEL_SKILLS_UNCONFINED_EMULATOR")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (confine.UNCONFINED_ENV, *RETIRED):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_only_kernel_skills_unconfined_1_opts_out(clean_env: pytest.MonkeyPatch) -> None:
    assert confine.UNCONFINED_ENV == "KERNEL_SKILLS_UNCONFINED"
    assert not confine.opted_out()
    for name in RETIRED:
        clean_env.setenv(name, "1")
    assert not confine.opted_out()  # the old names fail closed
    clean_env.setenv(confine.UNCONFINED_ENV, "0")
    assert not confine.opted_out()
    clean_env.setenv(confine.UNCONFINED_ENV, "1")
    assert confine.opted_out()


def test_a_retired_name_is_reported_with_the_new_one(clean_env: pytest.MonkeyPatch) -> None:
    assert confine.retired_settings() == []
    clean_env.setenv("KERNEL_SKILLS_UNCONFINED_EMULATOR", "1")
    assert confine.retired_settings() == [
        "KERNEL_SKILLS_UNCONFINED_EMULATOR is no longer read; set KERNEL_SKILLS_UNCONFINED=1"
    ]


def test_the_emulator_opt_out_is_the_same_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setattr(policy, "landlock_available", lambda: False)
    clean_env.setenv("KERNEL_SKILLS_UNCONFINED_EMULATOR", "1")
    with pytest.raises(DeviceUnavailable, match="KERNEL_SKILLS_UNCONFINED=1"):
        confine.require_child_confinement()
    clean_env.setenv(confine.UNCONFINED_ENV, "1")
    assert "UNCONFINED" in confine.require_child_confinement()


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("KERNEL_SKILLS_UNCONFINED_COMPILE", check_compile_confinement),
        ("KERNEL_SKILLS_UNCONFINED_EMULATOR", check_emulator_confinement),
    ],
)
def test_the_doctor_names_the_new_variable_when_an_old_one_is_set(
    clean_env: pytest.MonkeyPatch, name: str, check
) -> None:
    clean_env.setenv(name, "1")
    found = check()
    assert found.status != "ok"
    assert f"{name} is no longer read; set KERNEL_SKILLS_UNCONFINED=1" in found.detail
    assert "NVRTC runs unconfined" not in found.detail and not found.detail.startswith("UNCONFINED")
    assert "KERNEL_SKILLS_UNCONFINED=1" in (found.fix or "")


def _parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("command", [["serve"], ["compile", "k.cu"], ["bench", "k.cu", "--problem", "p"]])
def test_unconfined_and_its_deprecated_alias_set_the_same_option(command: list[str]) -> None:
    assert _parse(*command).unconfined is False
    assert _parse(*command, "--unconfined").unconfined is True
    assert _parse(*command, "--unconfined-compile").unconfined is True


def test_the_deprecated_alias_is_hidden_from_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kernel_skills.cli", "compile", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--unconfined" in done.stdout and "--unconfined-compile" not in done.stdout
