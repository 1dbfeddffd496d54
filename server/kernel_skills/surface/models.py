"""Structured results of the skill tools (their JSON schema is the tools' ``outputSchema``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kernel_skills.catalog.models import Issue, TokenEstimate


class SkillSummary(BaseModel):
    """One served skill, as the catalog advertises it (no body)."""

    name: str
    description: str
    uri: str = Field(description="resources/read this URI (or call get_skill) to load the SKILL.md body")
    tokens: TokenEstimate
    stale: bool = Field(
        description="true: the files on disk are currently invalid and this is the last valid version"
    )
    stale_errors: list[Issue] = Field(default_factory=list)


class InvalidSkillSummary(BaseModel):
    """A skill folder that is not served, with why (nothing is dropped silently)."""

    location: str
    name: str | None
    errors: list[Issue]


class SkillList(BaseModel):
    skills: list[SkillSummary]
    invalid: list[InvalidSkillSummary]
    total: int = Field(description="served skills in the catalog (before the optional query filter)")


class SkillFileEntry(BaseModel):
    path: str = Field(description="relative to the skill folder; pass it to read_skill_file")
    uri: str
    size: int
    mime_type: str
    digest: str


class SkillDetail(BaseModel):
    """A full SKILL.md: frontmatter, Markdown body and the skill's file list."""

    name: str
    description: str
    uri: str
    base_uri: str = Field(description="relative links in the body resolve against this")
    frontmatter: dict[str, Any]
    body: str
    files: list[SkillFileEntry]
    tokens: TokenEstimate
    stale: bool
    stale_errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)


class SkillFileContent(BaseModel):
    """One file of a skill. Exactly one of ``text`` / ``blob_base64`` is set."""

    name: str
    path: str
    uri: str
    mime_type: str
    size: int
    text: str | None = None
    blob_base64: str | None = None
