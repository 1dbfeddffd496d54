"""`kernel-skills skills list|validate|generate|refine`: what the catalog serves, spec validation of skill
folders, and skills written by a teacher model (generate, refine: see ``commands.skill_writing``)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from kernel_skills.commands import skill_writing

if TYPE_CHECKING:
    from kernel_skills.catalog import CatalogListing, SkippedEntry, ValidationResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("skills", help="list served skills or validate skill folders")
    actions = parser.add_subparsers(dest="skills_command", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="list served skills (then invalid ones with their errors); exit 1 if any is invalid",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    add_root_arguments(listing)
    listing.set_defaults(func=_list)

    validate = actions.add_parser(
        "validate",
        help="validate skill folders / .skill packages (exit 0 all valid, 1 some invalid, 2 bad usage)",
    )
    validate.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a skill folder, a .skill package, a SKILL.md, or a folder of skills",
    )
    validate.add_argument("--json", action="store_true", help="print a JSON list of results")
    validate.set_defaults(func=_validate)
    skill_writing.register(actions)
    parser.set_defaults(func=lambda args: _usage(parser))


def add_root_arguments(parser: argparse.ArgumentParser) -> None:
    """The skill-root options (`--skills-dir`, `--no-bundled`, `--agent-dirs`): shared by `serve`."""
    parser.add_argument(
        "--skills-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a folder of skill folders (repeatable; earlier ones win a name clash)",
    )
    parser.add_argument("--no-bundled", action="store_true", help="leave out the bundled skills")
    parser.add_argument(
        "--agent-dirs",
        action="store_true",
        help="also read .claude/skills, .agents/skills and ~/.claude/skills",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _list(args: argparse.Namespace) -> int:
    from kernel_skills.catalog import Catalog, CatalogConfig, list_skills
    from kernel_skills.commands.output import emit_json

    config = CatalogConfig(
        skills_dirs=args.skills_dir, bundled=not args.no_bundled, agent_dirs=args.agent_dirs
    )
    listing = list_skills(Catalog.from_config(config))
    if args.json:
        emit_json(listing)
    else:
        print(_render_listing(listing))
    return 1 if listing.invalid else 0


def _render_listing(listing: CatalogListing) -> str:
    lines = ["Roots (in precedence order):"]
    for root in listing.roots:
        missing = "" if root.exists else "  (missing)"
        lines.append(f"  {root.origin:<8} {root.path}{missing}")
    lines.append("")
    lines.append(f"Skills served: {len(listing.skills)}")
    for skill in listing.skills:
        tokens = skill.tokens
        lines.append(
            f"  {skill.name}  (~{tokens.description} + ~{tokens.body} tokens, estimated; "
            f"{skill.file_count} file{'' if skill.file_count == 1 else 's'})"
        )
        lines.extend(_wrap(skill.description, "      "))
        lines.append(f"      at {skill.location}")
        if skill.stale:
            lines.append("      STALE: files on disk are invalid; serving the last valid version:")
            lines.extend(f"        {issue.field}: {issue.message}" for issue in skill.stale_errors)
        for shadowed in skill.shadows:
            lines.append(f"      shadows {shadowed}")
        lines.extend(f"      warning: {issue.field}: {issue.message}" for issue in skill.warnings)
    if listing.invalid:
        lines.append("")
        lines.append(f"Invalid, not served: {len(listing.invalid)}")
        for bad in listing.invalid:
            label = f"{bad.name} " if bad.name else ""
            lines.append(f"  {label}at {bad.location}")
            lines.extend(f"      error: {issue.field}: {issue.message}" for issue in bad.errors)
            lines.extend(f"      warning: {issue.field}: {issue.message}" for issue in bad.warnings)
    return "\n".join(lines)


def _validate(args: argparse.Namespace) -> int:
    from kernel_skills.catalog import validate_path
    from kernel_skills.commands.output import emit_json

    # Every path is checked before anything is printed, so bad usage (exit 2) prints no results.
    expanded = [_expand(given) for given in args.paths]
    results = [validate_path(path) for paths, _ in expanded for path in paths]
    for _, skipped in expanded:  # on stderr: --json keeps one document on stdout
        for entry in skipped:
            sys.stderr.write(f"{entry.path}: skipped, {entry.reason}\n")
    if args.json:
        emit_json([result.model_dump(mode="json") for result in results])
    else:
        for result in results:
            _print_result(result)
    return 0 if all(result.valid for result in results) else 1


def _print_result(result: ValidationResult) -> None:
    verdict = "valid" if result.valid else "INVALID"
    name = f" ({result.name})" if result.name else ""
    print(f"{result.path}{name}: {verdict}")
    for issue in result.errors:
        print(f"  error: {issue.field}: {issue.message}")
    for issue in result.warnings:
        print(f"  warning: {issue.field}: {issue.message}")
    if result.tokens:
        print(f"  tokens (estimate): description ~{result.tokens.description}, body ~{result.tokens.body}")


def _expand(path: Path) -> tuple[list[Path], list[SkippedEntry]]:
    """A folder of skills (no SKILL.md of its own) stands for what the catalog would load from it
    (every folder and .skill package in it, valid or not), with the skill-like entries it skips."""
    from kernel_skills.catalog import skill_entries

    if not path.is_dir() or any((path / name).exists() for name in ("SKILL.md", "skill.md")):
        return [path], []
    loaded, skipped = skill_entries(path)
    return (loaded or [path]), skipped


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)
