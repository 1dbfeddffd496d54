"""`kernel-skills serve`: run the MCP server over stdio (default) or streamable HTTP.

HTTP binds 127.0.0.1 unless told otherwise; a non-loopback address needs both --allow-remote and a
bearer token in KERNEL_SKILLS_TOKEN. Whenever that variable is set, HTTP requests must carry it.
Logs go to stderr; on stdio, stdout carries the protocol only. The MCP SDK is imported only when the
command runs, never at `kernel-skills --help`.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys
from pathlib import Path

from kernel_skills.commands.bench import add_problems_dir_argument
from kernel_skills.commands.compile import add_unconfined_argument
from kernel_skills.commands.pool import add_executor_arguments, command_runtime
from kernel_skills.commands.skills import add_root_arguments
from kernel_skills.errors import RefusedInput

TOKEN_ENV = (
    "KERNEL_SKILLS_TOKEN"  # same name as kernel_skills.surface.auth.TOKEN_ENV (not imported: no mcp here)
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the MCP server (stdio or streamable HTTP)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8765, help="HTTP port (default 8765)")
    add_root_arguments(parser)
    add_problems_dir_argument(parser)
    add_unconfined_argument(parser)
    add_executor_arguments(parser)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help=f"allow a non-loopback --host (also needs a bearer token in ${TOKEN_ENV})",
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--expose-paths",
        action="store_true",
        help="show clients the server's absolute paths (list_skills, review_skill); by default each "
        "skills root is named by a label such as cli:skills or bundled",
    )
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="DIR",
        help="record each client's kernel work (skills read, compiles, benchmarks) as a trace in DIR",
    )
    parser.set_defaults(func=handle)


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the results DB and the device calibration live (default: $KERNEL_SKILLS_DATA_DIR, "
        "else the per-user data folder, e.g. ~/.local/share/kernel-skills; never the current folder)",
    )


def use_data_dir(folder: Path | None) -> None:
    """Make ``folder`` (made absolute, created) this process's data dir; its children inherit it."""
    if folder is None:
        return
    from kernel_skills import paths

    folder = folder.expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RefusedInput(
            f"--data-dir {folder}: cannot create it ({exc.strerror or exc}); give a folder you can write"
        ) from exc
    os.environ[paths.DATA_DIR_ENV] = str(folder)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be an integer 1-65535, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be an integer 1-65535, got {port}")
    return port


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, allow_remote: bool, token: str | None) -> None:
    """RefusedInput (exit 2) unless binding ``host`` is safe: loopback, or remote with consent and a token."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise RefusedInput(
            f"refusing to bind {host!r}: it is not a loopback address, so anyone on the network could use "
            f"this server. Use --host 127.0.0.1 (the default), or pass --allow-remote and set {TOKEN_ENV}"
        )
    if not token:
        raise RefusedInput(
            f"refusing to bind {host!r} with --allow-remote but no bearer token: set {TOKEN_ENV} to a long "
            "random secret (clients then send 'Authorization: Bearer <token>')"
        )


def _setup_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="kernel-skills %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("watchfiles").setLevel(logging.WARNING)


def _warn_if_weakly_confined() -> None:
    from kernel_skills.confine import retired_settings, weaker_than_default

    for note in retired_settings():
        logging.getLogger("kernel_skills.confine").warning("confinement setting ignored: %s", note)
    why = weaker_than_default()
    if why is not None:
        logging.getLogger("kernel_skills.toolchain").warning(
            "compile confinement weaker than the default: %s", why
        )


def _log_data_dir() -> None:
    from kernel_skills.bench import db_path

    logging.getLogger("kernel_skills").info("results DB: %s (move it with --data-dir)", db_path())


def handle(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_ENV) or None
    if args.transport == "http":
        check_bind(args.host, allow_remote=args.allow_remote, token=token)
    for folder in args.skills_dir:
        if not folder.is_dir():
            raise RefusedInput(
                f"--skills-dir {folder} is not a directory; pass a folder that holds skill folders"
            )
    use_data_dir(args.data_dir)
    _setup_logging()
    _warn_if_weakly_confined()
    runtime = command_runtime(args)  # nothing connects or starts until the first GPU job

    from kernel_skills.app import ServerConfig
    from kernel_skills.surface import run_http, run_stdio

    config = ServerConfig(
        skills_dirs=args.skills_dir,
        bundled=not args.no_bundled,
        agent_dirs=args.agent_dirs,
        problems_dirs=args.problems_dir,
        record_dir=args.record,
        expose_paths=args.expose_paths,
    )
    with runtime:
        if args.transport == "stdio":
            _log_data_dir()  # over HTTP the banner says it, once the port is bound
            run_stdio(config, runtime)
        else:
            run_http(config, runtime, host=args.host, port=args.port, token=token)
    return 0
