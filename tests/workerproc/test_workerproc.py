"""The shared supervised-child mechanism, with real subprocesses (``echo_child.py``)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel_skills.workerproc import (
    MAX_FRAME_BYTES,
    ChildDied,
    ChildTimeout,
    FrameBuffer,
    SupervisedChild,
    encode,
)

HERE = Path(__file__).parent
ENV = {"PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}


def _child(**options) -> SupervisedChild:
    return SupervisedChild("echo_child", env=ENV, **options)


@pytest.fixture
def child() -> Iterator[SupervisedChild]:
    created = _child()
    yield created
    created.close()


def test_the_child_is_started_once_and_reused_across_jobs(child: SupervisedChild) -> None:
    first = child.request({"op": "echo", "data": 1}, timeout_s=30)
    second = child.request({"op": "echo", "data": 2}, timeout_s=30)
    assert (first["data"], second["data"]) == (1, 2)
    assert first["pid"] == second["pid"] == child.pid
    assert child.starts == 1


def test_a_reply_past_its_deadline_kills_the_child_and_the_next_job_gets_a_fresh_one(
    child: SupervisedChild,
) -> None:
    first = child.request({"op": "pid"}, timeout_s=30)["pid"]
    started = time.monotonic()
    with pytest.raises(ChildTimeout, match=r"no reply within 0\.5 s"):
        child.request({"op": "sleep", "seconds": 60}, timeout_s=0.5)
    assert time.monotonic() - started < 10
    assert child.pid is None and not child.alive()
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # killed and reaped, not left running
    assert child.request({"op": "pid"}, timeout_s=30)["pid"] != first
    assert child.starts == 2


def test_a_child_that_dies_mid_job_is_reported_with_its_exit_status_and_replaced(
    child: SupervisedChild,
) -> None:
    first = child.request({"op": "pid"}, timeout_s=30)["pid"]
    with pytest.raises(ChildDied) as caught:
        child.request({"op": "crash"}, timeout_s=30)
    assert caught.value.returncode == -signal.SIGKILL and not caught.value.before_send
    assert child.request({"op": "pid"}, timeout_s=30)["pid"] != first
    assert child.starts == 2


def test_sending_to_a_child_that_already_exited_is_died_before_send(child: SupervisedChild) -> None:
    child.ensure_started()
    process = child.process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with pytest.raises(ChildDied) as caught:
        child.send({"op": "echo", "data": "x" * 1_000_000})  # larger than the pipe buffer: EPIPE
    assert caught.value.before_send and caught.value.returncode == -signal.SIGKILL
    assert child.process is None


def test_payloads_far_larger_than_a_pipe_buffer_round_trip() -> None:
    child = _child()
    try:
        data = "".join(chr(48 + i % 75) for i in range(6_000_000))
        reply = child.request({"op": "echo", "data": data}, timeout_s=60)
        assert reply["data"] == data
        assert child.request({"op": "echo", "data": "s"}, timeout_s=30)
    finally:
        child.close()


def test_stray_output_on_the_childs_stdout_does_not_reach_the_channel(child: SupervisedChild) -> None:
    assert child.request({"op": "print"}, timeout_s=30)["op"] == "print"
    assert child.request({"op": "echo", "data": 3}, timeout_s=30)["data"] == 3


def test_a_private_cwd_is_empty_per_child_and_removed_with_it() -> None:
    child = _child(private_cwd="workerproc-test-")
    try:
        cwd = Path(child.request({"op": "cwd"}, timeout_s=30)["cwd"])
        assert cwd.name.startswith("workerproc-test-") and cwd != Path.cwd()
        assert list(cwd.iterdir()) == []
        child.kill()
        assert not cwd.exists()
    finally:
        child.close()


def test_a_failing_start_hook_kills_the_child_and_propagates() -> None:
    seen: list[int] = []

    def hook(started: SupervisedChild) -> None:
        assert started.process is not None
        seen.append(started.process.pid)
        raise RuntimeError("handshake refused")

    child = _child(on_start=hook)
    try:
        with pytest.raises(RuntimeError, match="handshake refused"):
            child.request({"op": "pid"}, timeout_s=30)
        assert child.process is None and len(seen) == 1
    finally:
        child.close()


def test_requests_from_many_threads_are_served_one_at_a_time(child: SupervisedChild) -> None:
    results: dict[int, object] = {}

    def run(index: int) -> None:
        results[index] = child.request({"op": "echo", "data": index}, timeout_s=30)["data"]

    threads = [threading.Thread(target=run, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {index: index for index in range(8)}
    assert child.starts == 1


def test_close_with_grace_lets_the_child_exit_at_end_of_input(child: SupervisedChild) -> None:
    child.ensure_started()
    process = child.process
    assert process is not None
    child.close(grace_s=10)
    assert process.returncode == 0 and child.process is None


def test_the_frame_decoder_takes_frames_in_pieces_and_refuses_oversized_ones() -> None:
    data = encode({"a": "b" * 100_000}) + encode([1, 2])
    buffer = FrameBuffer()
    decoded = []
    for i in range(0, len(data), 999):
        buffer.feed(data[i : i + 999])
        while (frame := buffer.pop()) is not None:
            decoded.append(frame)
    assert decoded == [{"a": "b" * 100_000}, [1, 2]]
    forged = FrameBuffer()
    forged.feed((MAX_FRAME_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(ValueError, match="exceeds"):
        forged.pop()


def test_the_child_gets_an_allow_listed_environment_without_the_servers_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("KERNEL_SKILLS_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "SOME_UNRELATED_VAR"):
        monkeypatch.setenv(name, "s3cret-value")
    monkeypatch.setenv("KERNEL_SKILLS_CACHE_DIR", "/tmp/kept")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    child = _child()
    try:
        env = child.request({"op": "env"}, timeout_s=30)["env"]
    finally:
        child.close()
    assert "s3cret-value" not in env.values()
    assert {
        "KERNEL_SKILLS_TOKEN",
        "OPENAI_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "SOME_UNRELATED_VAR",
    }.isdisjoint(env)
    assert env["KERNEL_SKILLS_CACHE_DIR"] == "/tmp/kept"
    assert (env["CUDA_VISIBLE_DEVICES"], env["LC_ALL"], env["PATH"]) == ("0", "C.UTF-8", os.environ["PATH"])


def test_the_real_compile_worker_lacks_the_servers_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from kernel_skills.toolchain.worker import CompileWorker

    monkeypatch.setenv("KERNEL_SKILLS_TOKEN", "s3cret-token")
    monkeypatch.setenv("OPENAI_API_KEY", "s3cret-key")
    worker = CompileWorker()
    try:
        worker.compile({"source": "__global__ void k() {}", "name": "k.cu", "headers": {}, "options": []})
        assert worker.pid is not None
        environ = Path(f"/proc/{worker.pid}/environ").read_bytes()
    finally:
        worker.close()
    assert b"s3cret" not in environ and b"KERNEL_SKILLS_TOKEN" not in environ


def _gone(pid: int) -> bool:
    """No such process, or a zombie waiting for whoever adopted it (it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _wait_gone(pid: int, deadline_s: float = 30) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)  # polling with a deadline, not synchronising
    return False


def test_a_timeout_kills_what_the_child_spawned_too(child: SupervisedChild) -> None:
    grandchild = child.request({"op": "spawn"}, timeout_s=30)["grandchild"]
    assert not _gone(grandchild)
    with pytest.raises(ChildTimeout):
        child.request({"op": "sleep", "seconds": 60}, timeout_s=0.5)
    assert _wait_gone(grandchild)


def test_closing_the_child_kills_its_process_group(child: SupervisedChild) -> None:
    reply = child.request({"op": "spawn"}, timeout_s=30)
    assert os.getpgid(reply["pid"]) == reply["pid"] != os.getpgid(0)  # it leads its own group
    child.close(grace_s=5)
    assert _wait_gone(reply["grandchild"])
