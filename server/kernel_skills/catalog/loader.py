"""Turn one skill source (folder or `.skill` package) into a served Skill or an InvalidSkill."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kernel_skills.catalog.frontmatter import FrontmatterError, parse_skill_md
from kernel_skills.catalog.models import InvalidSkill, Issue, Skill, TokenEstimate, ValidationResult
from kernel_skills.catalog.sources import DirSource, Source, ZipSource
from kernel_skills.catalog.spec import check_body, check_frontmatter, token_estimate
from kernel_skills.errors import RefusedInput


@dataclass
class Loaded:
    """One source after loading: exactly one of ``skill`` / ``invalid`` is set."""

    source: Source
    skill: Skill | None
    invalid: InvalidSkill | None
    skill_md: bytes = b""


def load_source(source: Source, root: str) -> Loaded:
    listing = source.list()

    def invalid(
        errors: list[Issue],
        name: str | None = None,
        warnings: list[Issue] | None = None,
        tokens: TokenEstimate | None = None,
    ) -> Loaded:
        bad = InvalidSkill(
            location=source.location,
            root=root,
            name=name,
            errors=errors,
            warnings=warnings or listing.warnings,
            tokens=tokens,
        )
        return Loaded(source=source, skill=None, invalid=bad)

    if listing.errors:
        return invalid(listing.errors)
    skill_md = listing.contents.get("SKILL.md")
    if skill_md is None:
        others = [f.path for f in listing.files if f.path.lower() == "skill.md"]
        if others:
            message = f"found {others[0]!r}; the file must be named exactly SKILL.md"
        else:
            message = "missing: a skill folder needs a SKILL.md file (YAML frontmatter, then Markdown)"
        return invalid([Issue(field="SKILL.md", message=message)])
    try:
        parsed = parse_skill_md(skill_md)
    except FrontmatterError as exc:
        return invalid([exc.issue])
    fm = parsed.frontmatter
    errors, warnings = check_frontmatter(fm, source.folder_name)
    warnings = listing.warnings + warnings + check_body(parsed.body)
    name = fm.get("name") if isinstance(fm.get("name"), str) else None
    description = fm.get("description")
    tokens = token_estimate(description if isinstance(description, str) else "", parsed.body)
    if errors:
        return invalid(errors, name=name, warnings=warnings, tokens=tokens)
    skill = Skill(
        name=fm["name"],
        description=description,
        frontmatter=fm,
        body=parsed.body,
        location=source.location,
        root=root,
        source=source.kind,
        files=listing.files,
        skill_md_size=len(skill_md),
        tokens=tokens,
        warnings=warnings,
    )
    return Loaded(source=source, skill=skill, invalid=None, skill_md=skill_md)


def source_for(path: Path, previous: Source | None = None) -> Source:
    """The source for a candidate path: a folder, or a `.skill` package. ``previous`` (the last
    source read from the same path) lets a folder rescan skip re-hashing unchanged files."""
    if path.suffix == ".skill" and path.is_file():
        return ZipSource(path)
    return DirSource(path, previous if isinstance(previous, DirSource) else None)


def validate_path(path: Path) -> ValidationResult:
    """Validate one skill folder, `.skill` package, or SKILL.md file. RefusedInput if it is none."""
    path = Path(path)
    if not path.exists():
        raise RefusedInput(
            f"{os.fspath(path)} does not exist; give a skill folder, a .skill package or a SKILL.md"
        )
    if path.is_file() and path.name == "SKILL.md":
        path = path.parent
    if path.is_file() and path.suffix != ".skill":
        raise RefusedInput(
            f"{os.fspath(path)} is a file but not a .skill package or SKILL.md; give a skill folder, "
            "a .skill package or a SKILL.md"
        )
    loaded = load_source(source_for(path), root=os.fspath(path.parent))
    if loaded.skill is not None:
        skill = loaded.skill
        return ValidationResult(
            path=os.fspath(path), name=skill.name, valid=True, warnings=skill.warnings, tokens=skill.tokens
        )
    assert loaded.invalid is not None
    bad = loaded.invalid
    return ValidationResult(
        path=os.fspath(path),
        name=bad.name,
        valid=False,
        errors=bad.errors,
        warnings=bad.warnings,
        tokens=bad.tokens,
    )
