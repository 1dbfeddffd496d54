"""Pydantic models the catalog hands out. Field names here are part of the public contract
(validate: path, name, valid, errors[{field, message}], warnings[...]; see
tests/contract/test_stable_names.py); add fields freely, never rename."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Issue(BaseModel):
    """One validation finding. ``field`` is a frontmatter key, ``body``, ``file`` or ``SKILL.md``."""

    field: str
    message: str


class TokenEstimate(BaseModel):
    """Estimated tokens (not a tokenizer count: ~4 characters per token)."""

    description: int
    body: int
    method: str = "estimate: about 4 characters per token, not a real tokenizer count"


class ValidationResult(BaseModel):
    """Outcome of validating one skill folder or .skill package."""

    path: str
    name: str | None
    valid: bool
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    tokens: TokenEstimate | None = None


class SkillFile(BaseModel):
    """One file of a skill (SKILL.md included), path relative to the skill folder, POSIX separators."""

    path: str
    size: int
    digest: str  # "sha256:<hex>"
    mime_type: str


class Skill(BaseModel):
    """A served skill. ``stale`` means the files on disk are currently invalid and this is the last
    valid version (kept so an agent never loses a skill mid-edit); ``stale_errors`` says why."""

    name: str
    description: str
    frontmatter: dict[str, Any]  # verbatim as parsed (JSON-safe: strings, numbers, lists, maps)
    body: str
    location: str  # folder path, or "<zip path>!/<folder>" for a .skill package
    root: str  # the skills root it came from
    source: Literal["dir", "zip"] = "dir"
    files: list[SkillFile]
    skill_md_size: int
    tokens: TokenEstimate
    warnings: list[Issue] = Field(default_factory=list)
    stale: bool = False
    stale_errors: list[Issue] = Field(default_factory=list)
    shadows: list[str] = Field(default_factory=list)  # locations of same-name skills it hides


class InvalidSkill(BaseModel):
    """A skill that is not served, with the reasons. Never silently dropped: listed and logged."""

    location: str
    root: str
    name: str | None
    errors: list[Issue]
    warnings: list[Issue] = Field(default_factory=list)
    tokens: TokenEstimate | None = None  # when SKILL.md could be parsed


class FileContent(BaseModel):
    """A file read from a skill. Exactly one of ``text`` / ``blob`` is set (blob: raw bytes)."""

    name: str
    path: str
    mime_type: str
    size: int
    text: str | None = None
    blob: bytes | None = None


class CatalogChange(BaseModel):
    """What one reload changed. ``files`` lists (skill, path) pairs whose content changed."""

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    files: list[tuple[str, str]] = Field(default_factory=list)
    invalid_changed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.files or self.invalid_changed)


class RootInfo(BaseModel):
    """A skills root as listed by ``kernel-skills skills list``."""

    path: str
    origin: str  # "cli" | "env" | "agent" | "bundled"
    exists: bool


class SkillSummary(BaseModel):
    """A served skill without its body and file list (``skills list`` and the ``list_skills`` tool)."""

    name: str
    description: str
    uri: str = Field(description="resources/read this URI (or call get_skill) to load the SKILL.md body")
    location: str
    root: str
    source: Literal["dir", "zip"]
    file_count: int
    tokens: TokenEstimate
    warnings: list[Issue] = Field(default_factory=list)
    stale: bool = Field(
        False, description="true: the files on disk are currently invalid and this is the last valid version"
    )
    stale_errors: list[Issue] = Field(default_factory=list)
    shadows: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, skill: Skill) -> SkillSummary:
        from kernel_skills.catalog.uri import skill_uri

        return cls(
            file_count=len(skill.files),
            uri=skill_uri(skill.name),
            **skill.model_dump(include=set(cls.model_fields) - {"file_count", "uri"}),
        )


class CatalogListing(BaseModel):
    """``kernel-skills skills list --json`` and the ``list_skills`` tool: served skills, then invalid ones
    with their errors (nothing is dropped silently), and the roots they came from."""

    roots: list[RootInfo]
    skills: list[SkillSummary]
    invalid: list[InvalidSkill]
    total: int = Field(description="served skills in the catalog (before the optional query filter)")
