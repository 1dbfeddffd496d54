"""The Agent Skills specification's rules, applied to parsed frontmatter and body.

Errors make a skill invalid; warnings do not. Unknown frontmatter keys are warnings (real skills
carry client-specific keys such as Claude Code's ``disable-model-invocation``); the reference
validator ``skills-ref`` rejects them — we differ on purpose.
"""

from __future__ import annotations

import re
from typing import Any

from kernel_skills.catalog.limits import (
    BODY_LINE_WARNING,
    BODY_TOKEN_WARNING,
    CHARS_PER_TOKEN,
    MAX_COMPATIBILITY_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
)
from kernel_skills.catalog.models import Issue, TokenEstimate

SPEC_FIELDS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")
# ASCII only, on purpose: names become skill:// URI segments and folder names (see README).
_NAME_CHARS = re.compile(r"[a-z0-9-]+")


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def token_estimate(description: str, body: str) -> TokenEstimate:
    return TokenEstimate(description=estimate_tokens(description), body=estimate_tokens(body))


def check_name(name: Any, folder: str | None) -> list[Issue]:
    if not isinstance(name, str):
        return [Issue(field="name", message=f"must be a string, got {_kind(name)}")]
    errors: list[Issue] = []
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        errors.append(Issue(field="name", message=f"must be 1-{MAX_NAME_CHARS} characters, got {len(name)}"))
    if name and not _NAME_CHARS.fullmatch(name):
        bad = ", ".join(repr(c) for c in dict.fromkeys(c for c in name if not _NAME_CHARS.fullmatch(c)))
        errors.append(
            Issue(field="name", message=f"may only contain lowercase a-z, digits 0-9 and '-'; found {bad}")
        )
    if name.startswith("-") or name.endswith("-"):
        errors.append(Issue(field="name", message="must not start or end with '-'"))
    if "--" in name:
        errors.append(Issue(field="name", message="must not contain consecutive hyphens '--'"))
    if folder is not None and name and folder != name:
        errors.append(
            Issue(field="name", message=f"must equal the skill's folder name {folder!r}, got {name!r}")
        )
    return errors


def check_frontmatter(fm: dict[str, Any], folder: str | None) -> tuple[list[Issue], list[Issue]]:
    """Return (errors, warnings) for the frontmatter. ``folder`` is the skill folder's name."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    if "name" not in fm:
        errors.append(Issue(field="name", message="is required (1-64 chars: a-z, 0-9, '-')"))
    else:
        errors.extend(check_name(fm["name"], folder))
    if "description" not in fm:
        errors.append(
            Issue(field="description", message="is required: say what the skill does and when to use it")
        )
    else:
        errors.extend(_check_text("description", fm["description"], MAX_DESCRIPTION_CHARS))
    if "compatibility" in fm:
        errors.extend(_check_text("compatibility", fm["compatibility"], MAX_COMPATIBILITY_CHARS))
    if "license" in fm and not isinstance(fm["license"], str):
        errors.append(Issue(field="license", message=f"must be a string, got {_kind(fm['license'])}"))
    if "allowed-tools" in fm and not isinstance(fm["allowed-tools"], str):
        errors.append(
            Issue(
                field="allowed-tools",
                message=f"must be a space-separated string of tool names, got {_kind(fm['allowed-tools'])}",
            )
        )
    if "metadata" in fm:
        errors.extend(_check_metadata(fm["metadata"]))
    unknown = [key for key in fm if key not in SPEC_FIELDS]
    for key in unknown:
        warnings.append(
            Issue(
                field=key,
                message="is not an Agent Skills spec field (allowed: " + ", ".join(SPEC_FIELDS) + "); "
                "kept and served, but other clients may ignore it (skills-ref rejects it)",
            )
        )
    return errors, warnings


def check_body(body: str) -> list[Issue]:
    warnings: list[Issue] = []
    tokens = estimate_tokens(body)
    if tokens > BODY_TOKEN_WARNING:
        warnings.append(
            Issue(
                field="body",
                message=f"is about {tokens} tokens (estimate); "
                f"the spec suggests under {BODY_TOKEN_WARNING} — "
                "move detail into references/ files",
            )
        )
    lines = body.count("\n") + (1 if body and not body.endswith("\n") else 0)
    if lines > BODY_LINE_WARNING:
        warnings.append(
            Issue(
                field="body",
                message=f"is {lines} lines; the spec suggests under {BODY_LINE_WARNING} — "
                "move detail into references/ files",
            )
        )
    return warnings


def _check_text(field: str, value: Any, limit: int) -> list[Issue]:
    if not isinstance(value, str):
        return [Issue(field=field, message=f"must be a string, got {_kind(value)}")]
    if not value.strip():
        return [Issue(field=field, message=f"must be 1-{limit} characters and not blank")]
    if len(value) > limit:
        return [Issue(field=field, message=f"must be at most {limit} characters, got {len(value)}")]
    return []


def _check_metadata(value: Any) -> list[Issue]:
    if not isinstance(value, dict):
        return [
            Issue(
                field="metadata", message=f"must be a map of string keys to string values, got {_kind(value)}"
            )
        ]
    return [
        Issue(
            field=f"metadata.{key}",
            message=f"metadata values must be strings, got {_kind(item)} (quote it or flatten it)",
        )
        for key, item in value.items()
        if not isinstance(item, str)
    ]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a map", list: "a list", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
