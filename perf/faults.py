"""`python -m perf faults` (opt-in, not in the default run): a soak of N clients with faults injected.

One server in this process (the bench and compile tools), N real MCP SDK clients on in-memory
connections calling ``compile_kernel`` (a fresh source each time: real NVRTC), ``benchmark_kernel`` on
the CPU emulator (the bundled gelu_tanh with a unique comment, so every verdict has its own source
hash) and ``list_results``, while an injector makes one fault at a time, for real, in rotation:
SIGKILL / SIGSTOP of the compile worker and of an emulator engine mid-launch, the data dir made
immutable (``chattr +i``), the cache disk full (a tmpfs filled to its last block), the temp folder
full (another tmpfs), a damaged page in the results DB's index, the engine binary removed.

At the end, with every fault undone: every verdict a client was told must be in the DB (by source
hash; a told ``result_id`` must still name it), no call may have failed without a named cause, the
reference kernel must never be blamed (``kernel fault``), and once the workers are closed no child
process and no temp folder may remain. Needs root (mount, chattr), g++ and Landlock; else skipped."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LABELS = ("server fault", "timed out", "kernel fault", "refused", "compiler unavailable", "no GPU", "error")
COMPILE = 'extern "C" __global__ void k(float* out, int n) {{ if (threadIdx.x < n) out[0] = {v}f; }}\n'


@dataclass
class Tally:
    calls: Counter[str] = field(default_factory=Counter)
    ok_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)  # "tool: label"
    bare: list[str] = field(default_factory=list)  # errors without a named cause (must stay empty)
    samples: dict[str, str] = field(default_factory=dict)  # one message per error kind
    told: dict[str, int | None] = field(default_factory=dict)  # source hash -> told result_id
    unstored_told: int = 0
    windows: list[dict[str, Any]] = field(default_factory=list)
    ok_at: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # monotonic times
    error_at: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, "tool: label")


def _reason() -> str | None:
    from kernel_skills import confine

    if os.geteuid() != 0:
        return "needs root (it mounts tmpfs and uses chattr +i)"
    if shutil.which("g++") is None or shutil.which("chattr") is None:
        return "needs g++ and chattr"
    if not confine.landlock_available():
        return "the emulator needs Linux Landlock"
    return None


class Tmpfs:
    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)

    def fill(self) -> None:
        with open(self.path / ".ballast", "ab", buffering=0) as handle:
            while True:
                try:
                    handle.write(b"\0" * (1 << 16))
                except OSError:
                    break
        for size in (4096, 512, 1):
            try:
                with open(self.path / ".ballast", "ab", buffering=0) as handle:
                    while handle.write(b"\0" * size):
                        pass
            except OSError:
                continue

    def free(self) -> None:
        (self.path / ".ballast").unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


def _children() -> dict[int, str]:
    """Live descendants of this process: pid -> command line."""
    parent_of, command = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] == "Z":
                continue
            parent_of[int(entry)] = int(fields[1])
            command[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    found: dict[int, str] = {}
    frontier = [os.getpid()]
    while frontier:
        pid = frontier.pop()
        for child, parent in parent_of.items():
            if parent == pid and child not in found:
                found[child] = command[child]
                frontier.append(child)
    return found


def _signal_child(marker: str, sig: signal.Signals, wait_s: float) -> str:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for pid, command in _children().items():
            if marker in command:
                os.kill(pid, sig)
                return f"{sig.name} to pid {pid}"
        time.sleep(0.05)
    return "no target appeared"


@dataclass
class Rig:
    data: Path
    cache: Tmpfs
    temp: Tmpfs

    def engine_exe(self) -> Path | None:
        found = sorted((self.cache.path / "emulator").glob("ptxvm-*/ptxvm"))
        return found[0] if found else None

    def damage_index(self) -> str:
        db = self.data / "results.sqlite3"
        conn = sqlite3.connect(db)
        try:
            root = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'results_problem'"
            ).fetchone()
            size = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        with open(db, "r+b") as handle:
            handle.seek(size * (root[0] - 1))
            handle.write(b"\xa5" * size)
        return f"page {root[0]} (the index) overwritten"


def _faults(rig: Rig, hold_s: float) -> list[tuple[str, Any, Any]]:
    """(name, make, undo): each ``make`` returns what it did."""
    nothing = lambda: None  # noqa: E731
    worker = "toolchain.worker_main"
    wait_s = max(hold_s, 60.0)  # a target may be busy behind another fault's recovery
    return [
        ("compile worker SIGKILL", lambda: _signal_child(worker, signal.SIGKILL, wait_s), nothing),
        ("engine SIGKILL", lambda: _signal_child("ptxvm", signal.SIGKILL, wait_s), nothing),
        ("data dir immutable", lambda: _chattr(rig.data, "+i"), lambda: _chattr(rig.data, "-i")),
        ("cache disk full", lambda: rig.cache.fill() or "filled", rig.cache.free),
        ("temp disk full", lambda: rig.temp.fill() or "filled", rig.temp.free),
        ("results DB damaged", rig.damage_index, nothing),
        ("engine binary removed", lambda: _remove(rig.engine_exe()), nothing),
        ("compile worker SIGSTOP", lambda: _signal_child(worker, signal.SIGSTOP, wait_s), nothing),
        ("engine SIGSTOP", lambda: _signal_child("ptxvm", signal.SIGSTOP, wait_s), nothing),
    ]  # fmt: skip


def _chattr(path: Path, flag: str) -> str:
    subprocess.run(["chattr", flag, str(path)], check=True)
    return f"chattr {flag}"


def _remove(path: Path | None) -> str:
    if path is None:
        return "no engine built yet"
    path.unlink(missing_ok=True)
    return f"removed {path.name}"


def _label(text: str) -> str | None:
    body = text.split(": ", 1)[1] if text.startswith("Error executing tool") and ": " in text else text
    return next((label for label in LABELS if body.startswith(label + ":")), None)


async def _client(server: Any, index: int, deadline: float, tally: Tally) -> None:
    import anyio
    from mcp import Client

    from kernel_skills.bench.solutions import solution_request_fields

    fields = solution_request_fields("gelu_tanh")
    bench = {k: fields[k] for k in ("problem", "kernel", "block", "grid", "shared_mem")}
    rng = random.Random(index)
    async with Client(server) as client:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            tool = rng.choice(["compile_kernel", "compile_kernel", "benchmark_kernel", "list_results"])
            if tool == "compile_kernel":
                args: dict[str, Any] = {"source": COMPILE.format(v=f"{index}.{n}")}
            elif tool == "benchmark_kernel":
                args = {**bench, "source": fields["source"] + f"\n// soak client {index} call {n}\n"}
            else:
                args = {"problem": "gelu_tanh"}
            started = time.monotonic()
            with anyio.fail_after(600):
                result = await client.call_tool(tool, args)
            _record(tally, tool, result, (time.monotonic() - started) * 1000)


def _record(tally: Tally, tool: str, result: Any, ms: float) -> None:
    tally.calls[tool] += 1
    text = "".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        label = _label(text)
        if label is None:
            tally.bare.append(f"{tool}: {text[:300]}")
            return
        tally.errors[f"{tool}: {label}"] += 1
        tally.error_at.append((time.monotonic(), f"{tool}: {label}"))
        tally.samples.setdefault(f"{tool}: {label}", text[:400])
        return
    tally.ok_ms[tool].append(ms)
    tally.ok_at[tool].append(time.monotonic())
    data = result.structured_content or {}
    if tool == "benchmark_kernel":
        tally.told[data["provenance"]["source_sha256"]] = data.get("result_id")
        tally.unstored_told += data.get("result_id") is None


async def _injector(rig: Rig, deadline: float, hold_s: float, gap_s: float, tally: Tally) -> None:
    import anyio

    faults = _faults(rig, hold_s)
    turn = 0
    while time.monotonic() + hold_s < deadline:
        name, make, undo = faults[turn % len(faults)]
        turn += 1
        started = time.monotonic()
        did = await anyio.to_thread.run_sync(make)
        await anyio.sleep(max(0.0, hold_s - (time.monotonic() - started)))
        await anyio.to_thread.run_sync(undo)
        ended = time.monotonic()
        tally.windows.append({"fault": name, "did": did, "start": started, "end": ended})
        await anyio.sleep(gap_s)


async def _warm(server: Any) -> None:
    """One compile and one verdict before the clock starts: the worker up, the engine built."""
    from mcp import Client

    from kernel_skills.bench.solutions import solution_request_fields

    fields = solution_request_fields("gelu_tanh")
    bench = {k: fields[k] for k in ("problem", "source", "kernel", "block", "grid", "shared_mem")}
    async with Client(server) as client:
        await client.call_tool("compile_kernel", {"source": COMPILE.format(v="0.5")})
        await client.call_tool("benchmark_kernel", bench)


async def _soak(rig: Rig, minutes: float, clients: int, hold_s: float, gap_s: float) -> Tally:
    import anyio
    from mcp.server.mcpserver import MCPServer

    from kernel_skills.surface import bench_tools, compile_tools

    server = MCPServer(name="fault-soak")
    bench_tools.register(server)
    compile_tools.register(server)
    tally = Tally()
    await _warm(server)
    deadline = time.monotonic() + minutes * 60
    async with anyio.create_task_group() as group:
        group.start_soon(_injector, rig, deadline, hold_s, gap_s, tally)
        for index in range(clients):
            group.start_soon(_client, server, index, deadline, tally)
    return tally


def _verify(rig: Rig, tally: Tally) -> dict[str, Any]:
    from kernel_skills.bench import results_db

    results_db.list_results("gelu_tanh", path=rig.data / "results.sqlite3")  # flushes what is held
    conn = sqlite3.connect(rig.data / "results.sqlite3")
    try:
        rows = dict(conn.execute("SELECT source_sha256, id FROM results").fetchall())
        ids = dict(conn.execute("SELECT id, source_sha256 FROM results").fetchall())
    finally:
        conn.close()
    lost = [sha for sha in tally.told if sha not in rows]
    moved = [sha for sha, rid in tally.told.items() if rid is not None and ids.get(rid) != sha]
    return {"verdicts_told": len(tally.told), "told_with_null_id": tally.unstored_told, "lost": len(lost),
            "told_id_now_names_another": len(moved)}  # fmt: skip


def _leftovers(rig: Rig) -> dict[str, Any]:
    from kernel_skills import tempdirs
    from perf.runtime import RUNTIME

    RUNTIME.toolchain.close()
    time.sleep(0.5)
    lasting = [p.name for p in tempdirs.ours(rig.temp.path) if p.name.startswith("kernel-skills-engine-")]
    return {
        "orphans": sorted(_children().values()),
        "temp_dirs": [p.name for p in tempdirs.ours(rig.temp.path) if p.name not in lasting],
        "engine_dirs_for_process_life": lasting,
    }


def _print(figures: dict[str, Any]) -> None:
    print(f"{figures['clients']} clients, {figures['minutes']} min, {figures['calls_total']} calls")
    print(f"{'tool':<18}{'calls':>7}{'ok':>7}{'p50 ms':>10}{'p95 ms':>10}")
    for tool, row in figures["tools"].items():
        print(f"{tool:<18}{row['calls']:>7}{row['ok']:>7}{row['p50_ms']:>10}{row['p95_ms']:>10}")
    print("errors by cause:", figures["errors"] or "none", "| bare:", len(figures["bare_errors"]))
    print(f"{'fault':<26}{'did':<32}recovery (s to next success per tool)")
    for window in figures["windows"]:
        print(f"{window['fault']:<26}{str(window['did'])[:30]:<32}{window.get('recovered_s')}")
        print(f"{'':<26}errors until the next fault: {window.get('errors') or 'none'}")
    print("verdicts:", figures["verdicts"], "| cache faults:", figures["cache_faults"])
    print("leftovers:", figures["leftovers"])


def run(args: argparse.Namespace) -> dict:
    reason = _reason()
    if reason is not None:
        print(f"skipped: {reason}")
        return {"skipped": reason}
    import anyio

    from kernel_skills.bench.device import FORCE_NO_DEVICE_ENV
    from kernel_skills.cache_faults import FAULTS

    minutes = 1.5 if args.quick else float(getattr(args, "soak_minutes", 5.0))
    clients = int(getattr(args, "clients", 6))
    hold_s, gap_s = (8.0, 4.0) if args.quick else (15.0, 10.0)
    base = Path(tempfile.mkdtemp(prefix="kernel-skills-soak-"))
    rig = Rig(base / "data", Tmpfs(base / "cache", "96m"), Tmpfs(base / "tmp", "64m"))
    rig.data.mkdir()
    env = {
        "KERNEL_SKILLS_CACHE_DIR": str(rig.cache.path),
        "KERNEL_SKILLS_DATA_DIR": str(rig.data),
        FORCE_NO_DEVICE_ENV: "1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    tempfile.tempdir = str(rig.temp.path)  # the server's temp folders go on the second tmpfs
    try:
        tally = anyio.run(_soak, rig, minutes, clients, hold_s, gap_s)
        figures = _figures(tally, minutes, clients)
        figures["verdicts"] = _verify(rig, tally)
        figures["cache_faults"] = FAULTS.counts()
        figures["leftovers"] = _leftovers(rig)
    finally:
        tempfile.tempdir = None
        subprocess.run(["chattr", "-i", str(rig.data)], check=False)
        rig.cache.unmount()
        rig.temp.unmount()
        shutil.rmtree(base, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _print(figures)
    return figures


def _figures(tally: Tally, minutes: float, clients: int) -> dict[str, Any]:
    tools = {}
    for tool, calls in sorted(tally.calls.items()):
        times = sorted(tally.ok_ms.get(tool, []))
        tools[tool] = {
            "calls": calls,
            "ok": len(times),
            "p50_ms": round(statistics.median(times)) if times else None,
            "p95_ms": round(times[int(0.95 * (len(times) - 1))]) if times else None,
        }
    starts = [w["start"] for w in tally.windows] + [float("inf")]
    for i, window in enumerate(tally.windows):
        window["recovered_s"] = {
            tool: round(min(t for t in times if t >= window["end"]) - window["end"], 2)
            for tool, times in sorted(tally.ok_at.items())
            if any(t >= window["end"] for t in times)
        }
        window["errors"] = dict(Counter(what for t, what in tally.error_at if starts[i] <= t < starts[i + 1]))
    return {
        "clients": clients,
        "minutes": minutes,
        "calls_total": sum(tally.calls.values()),
        "tools": tools,
        "errors": dict(tally.errors),
        "error_samples": tally.samples,
        "bare_errors": tally.bare,
        "windows": [{k: v for k, v in w.items() if k not in ("start", "end")} for w in tally.windows],
    }
