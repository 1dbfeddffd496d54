"""Shared CLI output: ``--json`` prints exactly one JSON document on stdout; humans get text."""

from __future__ import annotations

import json
import sys

from pydantic import BaseModel

from kernel_skills.errors import KernelSkillsError


def emit_json(payload: BaseModel | dict | list) -> None:
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json(indent=2)
    else:
        text = json.dumps(payload, indent=2, default=_default)
    sys.stdout.write(text + "\n")


def _default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def emit_error(exc: KernelSkillsError, *, as_json: bool) -> None:
    """Errors go to stderr as text; with --json a JSON error document also goes to stdout."""
    kind = type(exc).__name__
    if as_json:
        emit_json({"ok": False, "error": {"type": kind, "message": str(exc)}})
    sys.stderr.write(f"error ({kind}): {exc}\n")
