"""The confinement of a launched child (``run_confined``, around the emulator's engine): a real program,
built here by the test with g++ (never a submission: the engine runs PTX as data), tries to escape and
is stopped by the kernel."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kernel_skills import confine
from kernel_skills.confine import ConfinedResult, policy, run_confined
from kernel_skills.errors import DeviceUnavailable
from kernel_skills.gxx import find_gxx

pytestmark = pytest.mark.skipif(
    shutil.which("g++") is None or not confine.landlock_available(),
    reason="needs g++ (to build the probe and the launcher) and Linux Landlock",
)

PROBE = r"""
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char** argv) {
  const char* what = argv[1];
  if (!strcmp(what, "read")) { std::printf("%d\n", open(argv[2], O_RDONLY)); }
  else if (!strcmp(what, "write")) { std::printf("%d\n", open(argv[2], O_WRONLY | O_CREAT, 0600)); }
  else if (!strcmp(what, "exec")) {
    execl("/bin/sh", "sh", "-c", "echo escaped", (char*)nullptr);
    std::printf("-1\n");
  }
  else if (!strcmp(what, "connect")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{}; a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[2]));
    a.sin_addr.s_addr = inet_addr("127.0.0.1");
    std::printf("%d\n", connect(s, (sockaddr*)&a, sizeof a));
  }
  else if (!strcmp(what, "env")) { std::printf("%s\n", getenv("SECRET_TOKEN") ? "leaked" : "clean"); }
  else if (!strcmp(what, "spin")) { if (fork() == 0) { for (;;) {} } for (;;) {} }
  else if (!strcmp(what, "alloc")) { std::printf("%s\n", malloc(size_t(1) << 33) ? "got" : "refused"); }
  std::fflush(stdout);
  return 0;
}
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("probe-build")
    (work / "probe.cpp").write_text(PROBE)
    built = subprocess.run(
        [str(find_gxx()), "-O1", "probe.cpp", "-o", "probe"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return work / "probe"


def _run(probe: Path, work: Path, *args: str, timeout_s: float = 20) -> ConfinedResult:
    return run_confined(
        [str(probe), *args], workdir=work, read_only=[probe], timeout_s=timeout_s, memory_mb=1024
    )


def test_a_confined_program_runs(probe: Path, tmp_path: Path) -> None:
    assert _run(probe, tmp_path, "env").returncode == 0


def test_a_file_outside_the_work_folder_cannot_be_read(probe: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("do not leak")
    work = tmp_path / "work"
    assert _run(probe, work, "read", str(secret)).stdout.strip() == "-1"
    assert _run(probe, work, "read", "/etc/passwd").stdout.strip() == "-1"
    (work / "mine.txt").write_text("ok")
    assert _run(probe, work, "read", str(work / "mine.txt")).stdout.strip() != "-1"


def test_writes_land_only_in_the_work_folder(probe: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert _run(probe, work, "write", str(tmp_path / "escaped.txt")).stdout.strip() == "-1"
    assert not (tmp_path / "escaped.txt").exists()
    assert _run(probe, work, "write", str(work / "out.bin")).stdout.strip() != "-1"


def test_another_program_cannot_be_executed(probe: Path, tmp_path: Path) -> None:
    done = _run(probe, tmp_path, "exec")
    assert "escaped" not in done.stdout
    assert done.stdout.strip() == "-1"


def test_a_tcp_connection_is_refused(probe: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert _run(probe, tmp_path, "connect", str(port)).stdout.strip() == "-1"


def test_the_environment_is_scrubbed(probe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    assert _run(probe, tmp_path, "env").stdout.strip() == "clean"


def test_a_hang_is_killed_with_its_whole_process_group_at_the_timeout(probe: Path, tmp_path: Path) -> None:
    done = _run(probe, tmp_path, "spin", timeout_s=1.5)
    assert done.timed_out
    assert done.signal == 9
    assert _run(probe, tmp_path, "env").returncode == 0  # the next run is fine


def test_the_address_space_limit_refuses_a_huge_allocation(probe: Path, tmp_path: Path) -> None:
    assert _run(probe, tmp_path, "alloc").stdout.strip() == "refused"


def test_without_landlock_nothing_runs_unless_the_operator_opts_in(
    probe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy, "landlock_available", lambda: False)
    monkeypatch.delenv(confine.UNCONFINED_ENV, raising=False)
    with pytest.raises(DeviceUnavailable, match="Landlock"):
        _run(probe, tmp_path, "env")
    monkeypatch.setenv(confine.UNCONFINED_ENV, "1")
    assert "UNCONFINED" in confine.require_child_confinement()
    assert _run(probe, tmp_path, "env").returncode == 0


def test_only_allow_listed_variables_reach_the_child(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LD_PRELOAD"):
        confine.scrubbed_env(tmp_path, {"LD_PRELOAD": "/tmp/x.so"})
    assert os.fspath(tmp_path) == confine.scrubbed_env(tmp_path)["TMPDIR"]


def test_the_resource_limits_are_in_force_in_the_child(tmp_path: Path) -> None:
    cat = Path("/bin/cat").resolve()
    done = run_confined(
        [str(cat), "/proc/self/limits"], workdir=tmp_path, read_only=[], timeout_s=20, memory_mb=1024
    )
    limits = {line[:26].strip(): line[26:].split()[:2] for line in done.stdout.splitlines()[1:]}
    assert limits["Max address space"] == [str(1024 << 20)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max open files"] == [str(confine.MAX_OPEN_FILES)] * 2
    assert limits["Max file size"] == [str(confine.MAX_FILE_MB << 20)] * 2
    assert limits["Max cpu time"] == ["40", "40"]  # twice the wall-clock timeout
    assert limits["Max processes"] == [str(confine.MAX_PROCESSES)] * 2


def test_a_missing_g_plus_plus_is_a_clear_error_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kernel_skills import gxx

    gxx.find_gxx.cache_clear()
    monkeypatch.setattr(gxx.shutil, "which", lambda name: None)
    try:
        with pytest.raises(
            DeviceUnavailable, match=r"g\+\+ is not installed here, .* `apt-get install g\+\+`"
        ):
            gxx.find_gxx()
    finally:
        gxx.find_gxx.cache_clear()
