"""Structured results of the skill tools (their JSON schema is the tools' ``outputSchema``).

``list_skills`` returns the catalog's own ``CatalogListing`` (the same document as ``skills list --json``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kernel_skills.catalog import Issue, TokenEstimate


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
