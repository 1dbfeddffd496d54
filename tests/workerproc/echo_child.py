"""A tiny child for the ``workerproc`` tests: ``python -m echo_child``.

Ops: echo (returns ``data``), sleep, crash (SIGKILL itself), print (writes to stdout first), cwd,
pid, env (returns its environment), spawn (starts a grandchild that sleeps, returns its pid). Run
with its folder on PYTHONPATH."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from kernel_skills.workerproc import claim_channel, serve


def handle(message: dict[str, Any]) -> dict[str, Any]:
    op = message["op"]
    if op == "sleep":
        time.sleep(message["seconds"])
    elif op == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    elif op == "print":
        print("stray output that must not reach the channel", flush=True)
        os.write(1, b"\x00\x00\x00\x05junk")
    elif op == "env":
        return {"op": op, "env": dict(os.environ)}
    elif op == "spawn":
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        return {"op": op, "pid": os.getpid(), "grandchild": grandchild.pid}
    return {"op": op, "pid": os.getpid(), "cwd": os.getcwd(), "data": message.get("data")}


if __name__ == "__main__":
    channel = claim_channel()
    sys.exit(serve(channel, handle))
