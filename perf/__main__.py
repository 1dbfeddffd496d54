"""`python -m perf [SECTION ...]` — runs the named sections (default: all).

Each section module exposes ``run(args) -> dict`` and prints its own table; a section that cannot
run here (no GPU, no nvcc) prints why and is skipped, never faked.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

SECTIONS = ("catalog", "compile", "kernels", "emulator", "estimate", "pool", "eval")
OPT_IN = ("faults",)  # run only when named: a soak of several minutes that needs root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf")
    parser.add_argument(
        "sections", nargs="*", metavar="SECTION", help=f"any of {', '.join(SECTIONS + OPT_IN)}"
    )
    parser.add_argument("--json-out", help="also write every section's figures to this JSON file")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--soak-minutes", type=float, default=5.0, help="faults: how long the soak runs")
    parser.add_argument("--clients", type=int, default=6, help="faults: concurrent MCP clients")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS + OPT_IN]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS + OPT_IN)}")
    results: dict[str, object] = {}
    for name in args.sections or SECTIONS:
        module = importlib.import_module(f"perf.{name}")
        print(f"\n== {name} ==", flush=True)
        results[name] = module.run(args)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
