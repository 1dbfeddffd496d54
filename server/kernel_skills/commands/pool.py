"""`kernel-skills pool status`: the GPU workers, their devices, jobs in flight and restarts; and the
``--executor`` / ``--ray-address`` options that `serve` and `bench` share.

With ``--executor ray`` it joins the cluster (``--ray-address``, ``$RAY_ADDRESS``, or the Ray
cluster already running on this machine) and lists every kernel-skills GPU actor there, whichever
server process owns it. It never starts a cluster just to report on it.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from kernel_skills.commands.output import emit_json

if TYPE_CHECKING:
    from kernel_skills.runtime import Runtime

EXECUTOR_CHOICES = ("local", "ray")


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor",
        choices=EXECUTOR_CHOICES,
        default="local",
        help="where GPU and CPU jobs run: the embedded local worker (default) or a Ray cluster",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="Ray cluster to join, e.g. ray://head:10001 or head:6379 (default $RAY_ADDRESS; "
        "none: start a local in-process cluster)",
    )


def command_runtime(args: argparse.Namespace) -> Runtime:
    """The runtime of one command with the chosen executor (RefusedInput for a bad combination); use it
    as a context manager: leaving it stops the workers. Nothing connects or starts until a job needs it."""
    from kernel_skills.runtime import Runtime

    return Runtime.create(args.executor, ray_address=args.ray_address)


def register(subparsers: argparse._SubParsersAction) -> None:
    pool = subparsers.add_parser("pool", help="the GPU worker pool (local or Ray)")
    commands = pool.add_subparsers(dest="pool_command", metavar="SUBCOMMAND")
    status = commands.add_parser("status", help="workers, their devices, jobs in flight, restarts")
    add_executor_arguments(status)
    status.add_argument("--json", action="store_true", help="print one JSON document")
    status.set_defaults(func=run_status)


def run_status(args: argparse.Namespace) -> int:
    from kernel_skills.executors import make_executor

    address = args.ray_address
    if args.executor == "ray" and not address and not os.environ.get("RAY_ADDRESS"):
        address = "auto"  # the cluster running on this machine (a server's in-process one included)
    executor = make_executor(args.executor, ray_address=address)
    result = executor.status()
    if args.json:
        emit_json(result)
    else:
        where = f" at {result.address}" if result.address else ""
        print(
            f"executor {result.executor}{where}: {result.jobs_in_flight} job(s) in flight, "
            f"{result.restarts} restart(s)"
        )
        if result.resources:
            print("  resources: " + ", ".join(_resource(k, v) for k, v in sorted(result.resources.items())))
        for w in result.workers:
            devices = ",".join(w.devices) or "-"
            job = f", running {w.current_job}" if w.current_job else ""
            print(
                f"  {w.name}: {w.state}, node {w.node or '-'}, pid {w.pid or '-'}, GPU {devices}, "
                f"{w.jobs_done} job(s) done, {w.restarts} restart(s){job}"
            )
        for note in result.notes:
            print(f"  note: {note}")
    return 0


def _resource(name: str, value: float) -> str:
    return f"{name} {value / 2**30:.1f} GiB" if "memory" in name else f"{name} {value:g}"
