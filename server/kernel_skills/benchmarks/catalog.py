"""Benchmark section (placeholder until its issue lands)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> dict:
    del args
    print("not implemented yet")
    return {"skipped": "not implemented yet"}
