"""The start-up sweep removes temp folders whose owning process is gone, by the pid in their name,
never by age: a live server's folder stays however old it is."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kernel_skills import tempdirs


def test_the_sweep_removes_folders_of_exited_processes_only(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        dead = tmp_path / f"kernel-skills-emu-{gone.pid}-abc"
        old_but_live = tmp_path / f"kernel-skills-nvrtc-{live.pid}-def"
        mine = tmp_path / f"kernel-skills-cubin-{os.getpid()}-ghi"
        other = tmp_path / f"someone-elses-{gone.pid}-jkl"
        for folder in (dead, old_but_live, mine, other):
            (folder / "inner").mkdir(parents=True)
            (folder / "inner" / "file").write_bytes(b"x")
        os.utime(old_but_live, (0, 0))  # as old as can be: age is no reason
        removed = tempdirs.sweep(tmp_path)
        assert removed == [dead]
        assert not dead.exists() and old_but_live.exists() and mine.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


def test_folder_names_carry_the_pid_and_unknown_kinds_are_refused() -> None:
    with tempdirs.private_dir("emu") as folder:
        assert tempdirs.owner(Path(folder)) == os.getpid()
    assert not Path(folder).exists()
    with pytest.raises(ValueError, match="unknown temp folder kind 'nope'; expected one of"):
        tempdirs.prefix("nope")
