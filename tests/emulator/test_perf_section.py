"""`make bench` section "emulator": listed, and skipped with the reason where the emulator cannot run."""

from __future__ import annotations

import argparse

import pytest

from kernel_skills.confine import policy


def test_the_emulator_section_is_part_of_make_bench() -> None:
    from perf.__main__ import SECTIONS

    assert "emulator" in SECTIONS


def test_without_landlock_the_section_says_why_and_skips(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from perf import emulator

    monkeypatch.setattr(policy, "landlock_available", lambda: False)
    assert emulator.run(argparse.Namespace(quick=True, json_out=None)) == {"skipped": "no Landlock"}
    assert "skipped: Linux Landlock is not available" in capsys.readouterr().out
