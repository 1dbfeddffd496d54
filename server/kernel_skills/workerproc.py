"""A supervised child process: ``python -m MODULE`` spoken to with framed messages over its pipes.

The parent side (``SupervisedChild``) starts the child on first use, reuses it across jobs, serialises
access with a lock, and kills it when a reply misses its deadline or the child dies; the next job
starts a fresh one. Callers translate ``ChildTimeout`` / ``ChildDied`` into their own errors.
The child side (``claim_channel``, ``serve``) shares the same framing: a 4-byte big-endian length,
then a JSON body. Never pickle: a child runs untrusted input (submitted kernels, NVRTC on submitted
source), so what it sends back must be data the parent can parse safely, not code it would run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kernel_skills import procs

MAX_FRAME_BYTES = 256 * 1024 * 1024
_HEADER_SIZE = 4
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Codec:
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


JSON = Codec(
    dumps=lambda message: json.dumps(message, separators=(",", ":"), allow_nan=True).encode("utf-8"),
    loads=json.loads,
)


def _check_size(length: int) -> None:
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME_BYTES}")


def encode(message: Any, codec: Codec = JSON) -> bytes:
    body = codec.dumps(message)
    _check_size(len(body))
    return len(body).to_bytes(_HEADER_SIZE, "big") + body


def write_frame(fd: int, message: Any, codec: Codec = JSON) -> None:
    data = memoryview(encode(message, codec))
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd: int, count: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = os.read(fd, min(count - len(chunks), _CHUNK))
        if not chunk:
            return None
        chunks.extend(chunk)
    return bytes(chunks)


def read_frame(fd: int, codec: Codec = JSON) -> Any | None:
    """Blocking read of one frame; None at end of stream."""
    header = _read_exact(fd, _HEADER_SIZE)
    if header is None:
        return None
    length = int.from_bytes(header, "big")
    _check_size(length)
    body = _read_exact(fd, length)
    return None if body is None else codec.loads(body)


class FrameBuffer:
    """Incremental decoder for the parent's non-blocking reader."""

    def __init__(self, codec: Codec = JSON) -> None:
        self._codec = codec
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._data.extend(chunk)

    def pop(self) -> Any | None:
        if len(self._data) < _HEADER_SIZE:
            return None
        length = int.from_bytes(self._data[:_HEADER_SIZE], "big")
        _check_size(length)
        end = _HEADER_SIZE + length
        if len(self._data) < end:
            return None
        body = bytes(self._data[_HEADER_SIZE:end])
        del self._data[:end]
        return self._codec.loads(body)


# --- child side -------------------------------------------------------------------------------


def claim_channel() -> int:
    """Keep the original stdout as the reply channel and point fd 1 (and ``sys.stdout``) at stderr,
    so stray prints (ours, a library's, a kernel's printf) cannot corrupt the frames."""
    channel = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def serve(
    channel: int,
    handle: Callable[[Any], Any],
    *,
    codec: Codec = JSON,
    exit_after: Callable[[Any], bool] | None = None,
) -> int:
    """Answer every frame read on stdin with ``handle(message)`` until end of input (returns 0).
    When ``exit_after(reply)`` holds, the process leaves right after that reply, skipping atexit."""
    while (message := read_frame(0, codec)) is not None:
        reply = handle(message)
        write_frame(channel, reply, codec)
        if exit_after is not None and exit_after(reply):
            os._exit(1)
    return 0


# --- parent side ------------------------------------------------------------------------------

# What a worker inherits from the server's environment: paths, locale, temp folders, the CUDA and
# NVIDIA settings, what PyTorch/Triton/inductor and CuPy read, and our own settings. Nothing else
# (bearer tokens, API keys, cloud credentials) reaches a process that runs submitted code.
_ENV_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TEMP", "TMP"}
    | {"LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV"}
    | {"CC", "CXX", "CFLAGS", "CXXFLAGS", "LDFLAGS", "SOURCE_DATE_EPOCH"}
)
_ENV_PREFIXES = (
    "LC_", "XDG_", "CUDA_", "NVIDIA_", "CUPY_", "TORCH", "PYTORCH_", "TRITON_", "OMP_", "MKL_",
    "KERNEL_SKILLS_",
)  # fmt: skip
_ENV_SECRET = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|AUTH", re.IGNORECASE)


def worker_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of ``environ`` (default: ``os.environ``); secret-looking names never."""
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if (name in _ENV_NAMES or name.startswith(_ENV_PREFIXES)) and not _ENV_SECRET.search(name)
    }


class ChildGone(Exception):
    """The child is gone (it was killed by us or died); ``SupervisedChild`` already reaped it."""


class ChildTimeout(ChildGone):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"no reply within {timeout_s:g} s; the child was killed")
        self.timeout_s = timeout_s


class ChildStopped(ChildTimeout):
    """The deadline passed while the child was stopped (SIGSTOP from outside): not its own doing."""

    def __init__(self, timeout_s: float, pid: int) -> None:
        super().__init__(timeout_s)
        self.args = (
            f"the child (pid {pid}) was stopped from outside and gave no reply within {timeout_s:g} s",
        )
        self.pid = pid


class ChildDied(ChildGone):
    def __init__(self, returncode: int | None, *, before_send: bool) -> None:
        super().__init__(f"the child died (exit status {returncode})")
        self.returncode = returncode
        self.before_send = before_send  # the message never reached it (its stdin was closed)


class SupervisedChild:
    """``python [FLAGS] -m MODULE [ARGS]`` with framed messages on stdin/stdout; stderr is inherited.

    ``args`` is called at every start (it may depend on the machine). The child's environment is
    ``worker_environment()`` at each start (an allow-list of the parent's), with ``env`` laid over
    it. Each child leads its own session and process group, and the whole group is killed with it
    (what it spawned goes too). ``private_cwd`` names the
    prefix of an empty temporary folder made for each child and removed with it (None: the parent's
    cwd). ``on_start`` runs after each spawn (a handshake); if it raises, the child is killed.
    ``lock`` is re-entrant: hold it to run a sequence of jobs on one child without interleaving.
    """

    def __init__(
        self,
        module: str,
        *,
        args: Callable[[], Sequence[str]] | None = None,
        python_flags: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        private_cwd: str | None = None,
        codec: Codec = JSON,
        on_start: Callable[[SupervisedChild], None] | None = None,
    ) -> None:
        self.module = module
        self._args = args
        self._python_flags = list(python_flags)
        self._env = dict(env or {})
        self._private_cwd = private_cwd
        self._codec = codec
        self._on_start = on_start
        self.lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._buffer = FrameBuffer(codec)
        self.starts = 0  # how many processes were started (tests check replacement)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    @property
    def pid(self) -> int | None:
        """The running child's pid; None when there is none or it has exited."""
        return self._proc.pid if self.alive() else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start a fresh child (killing any previous one) and run ``on_start``."""
        with self.lock:
            self.kill()
            argv = [
                sys.executable,
                *self._python_flags,
                "-m",
                self.module,
                *(self._args() if self._args else ()),
            ]
            if self._private_cwd is not None:
                self._workdir = tempfile.TemporaryDirectory(
                    prefix=self._private_cwd, ignore_cleanup_errors=True
                )
            self._buffer = FrameBuffer(self._codec)
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,
                env={**worker_environment(), **self._env},
                cwd=self._workdir.name if self._workdir is not None else None,
                start_new_session=True,  # its own process group: killed as one (see kill)
            )
            self.starts += 1
            if self._on_start is not None:
                try:
                    self._on_start(self)
                except BaseException:
                    self.kill()
                    raise

    def ensure_started(self) -> None:
        with self.lock:
            if not self.alive():
                self.start()

    def send(self, message: Any) -> None:
        """Send one frame; ``ChildDied(before_send=True)`` (child killed and reaped) if it is gone."""
        with self.lock:
            proc = self._proc
            if proc is None or proc.stdin is None:
                raise ChildDied(None, before_send=True)
            try:
                write_frame(proc.stdin.fileno(), message, self._codec)
            except OSError as exc:
                code = proc.poll()
                self.kill()
                raise ChildDied(code, before_send=True) from exc

    def receive(self, timeout_s: float) -> Any:
        """The next reply within ``timeout_s``. Past it: ``ChildTimeout``; end of output:
        ``ChildDied`` (also on a read error); a malformed frame: the codec's or the size check's error.
        The child is killed in every case."""
        with self.lock:
            proc = self._proc
            if proc is None or proc.stdout is None:
                raise ChildDied(None, before_send=False)
            fd = proc.stdout.fileno()
            deadline = time.monotonic() + timeout_s
            try:
                while (reply := self._buffer.pop()) is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        was_stopped = procs.stopped(proc.pid)
                        self.kill()
                        raise ChildStopped(timeout_s, proc.pid) if was_stopped else ChildTimeout(timeout_s)
                    if not select.select([fd], [], [], remaining)[0]:
                        continue
                    chunk = os.read(fd, _CHUNK)
                    if not chunk:
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            proc.wait(timeout=10)
                        code = proc.poll()
                        self.kill()
                        raise ChildDied(code, before_send=False)
                    self._buffer.feed(chunk)
            except ChildGone:
                raise
            except OSError as exc:  # the pipe broke under us: as good as dead
                code = proc.poll()
                self.kill()
                raise ChildDied(code, before_send=False) from exc
            except Exception:
                self.kill()  # a child that sends garbage is not trusted with another job
                raise
            return reply

    def request(self, message: Any, timeout_s: float) -> Any:
        """Start the child if needed, send ``message``, and wait for its reply."""
        with self.lock:
            self.ensure_started()
            self.send(message)
            return self.receive(timeout_s)

    def kill(self) -> None:
        """Kill the child and everything in its process group now, reap it, close its pipes and
        remove its private folder."""
        with self.lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                _kill_group(proc)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=30)
                for stream in (proc.stdin, proc.stdout):
                    if stream is not None:
                        with contextlib.suppress(OSError):
                            stream.close()
            if self._workdir is not None:
                self._workdir.cleanup()
                self._workdir = None

    def close(self, *, grace_s: float = 0.0) -> None:
        """Stop the child: with ``grace_s``, first close its stdin (it exits at end of input) and
        wait that long; then kill whatever is left."""
        with self.lock:
            proc = self._proc
            if grace_s > 0 and proc is not None and proc.poll() is None and proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=grace_s)
            self.kill()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's process group (its pgid is its pid: it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()


__all__ = [
    "JSON",
    "MAX_FRAME_BYTES",
    "ChildDied",
    "ChildGone",
    "ChildStopped",
    "ChildTimeout",
    "Codec",
    "FrameBuffer",
    "SupervisedChild",
    "claim_channel",
    "encode",
    "read_frame",
    "serve",
    "worker_environment",
    "write_frame",
]
