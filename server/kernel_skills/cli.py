"""The one command-line entry: ``kernel-skills serve|skills|compile|problems|bench|calibrate|pool|...``.

Each sub-command lives in ``kernel_skills.commands.<name>`` and exposes ``register(subparsers)``;
the handler it sets returns an exit code. Domain errors become exit codes here, in one place.
Imports stay lazy: ``kernel-skills --help`` must not load the MCP SDK, NVRTC, torch or CuPy.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kernel_skills import __version__
from kernel_skills.commands.output import emit_error

COMMAND_MODULES = (
    "serve", "skills", "compile", "problems", "bench", "pool", "kernels", "eval", "traces", "doctor",
)  # fmt: skip

# Options whose value is itself a compiler flag (`--option -use_fast_math`): argparse would read the
# value as an unknown flag, so the pair is joined into `--option=-use_fast_math` before parsing.
DASH_VALUE_OPTIONS = frozenset({"--option"})


def join_dash_values(argv: Sequence[str]) -> list[str]:
    joined: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token in DASH_VALUE_OPTIONS:
            value = next(tokens, None)
            joined.append(token if value is None else f"{token}={value}")
        else:
            joined.append(token)
    return joined


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; this keeps its message on stderr and stdout clean."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kernel-skills", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"kernel-skills {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"kernel_skills.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from kernel_skills.errors import KernelSkillsError

    parser = build_parser()
    args = parser.parse_args(join_dash_values(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "unconfined", False):
        import os

        from kernel_skills.confine import UNCONFINED_ENV

        os.environ[UNCONFINED_ENV] = "1"  # read when a confined child is started
    try:
        return int(args.func(args))
    except KernelSkillsError as exc:
        emit_error(exc, as_json=getattr(args, "json", False))
        return exc.exit_code
    except ModuleNotFoundError as exc:  # an optional package (torch, CuPy, Ray) missing deep in a job
        from kernel_skills.errors import missing_module

        named = missing_module(exc)
        if named is None:
            raise
        emit_error(named, as_json=getattr(args, "json", False))
        return named.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly; point stdout at devnull so the
        # interpreter's final flush does not raise again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
