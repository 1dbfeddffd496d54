"""A snapshot of the catalog in wire form, rebuilt only when the catalog changes.

``resources/list`` is the hot, large answer (about 200 KB at 1,000 skills): its entries are built here
once per catalog version as JSON-ready dicts, so a request only slices a page out of a precomputed list.
``skills/list`` entries (frontmatter plus every file's digest) are built per page instead: keeping them
all would cost about 2 MB of resident memory at 1,000 skills for an answer clients fetch rarely. The
``skill://`` URI rules (building and parsing) are ``catalog/uri.py``'s.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kernel_skills.catalog import SKILL_MD, parse_skill_uri, skill_uri
from kernel_skills.errors import RefusedInput

if TYPE_CHECKING:
    from kernel_skills.catalog import Catalog, Skill

SKILLS_EXTENSION = "io.modelcontextprotocol/skills"
URI_TEMPLATE = "skill://{name}/{+path}"
MARKDOWN = "text/markdown"

RESOURCES_PAGE = 1000  # resources/list entries per page (one short entry per skill)
SKILLS_PAGE = 200  # skills/list entries per page (frontmatter + every file's digest)


@dataclass(frozen=True)
class SkillIndex:
    """Everything a listing or lookup needs, for one catalog version."""

    version: int
    skills: tuple[Skill, ...]
    names: tuple[str, ...]  # sorted, parallel to ``skills``
    resources: tuple[dict[str, Any], ...]  # resources/list entries (one SKILL.md per skill)
    _by_name: dict[str, int] = field(repr=False)

    @classmethod
    def build(cls, catalog: Catalog) -> SkillIndex:
        version = catalog.version
        skills = tuple(sorted(catalog.skills(), key=lambda s: s.name))
        return cls(
            version=version,
            skills=skills,
            names=tuple(s.name for s in skills),
            resources=tuple(_resource(s) for s in skills),
            _by_name={s.name: i for i, s in enumerate(skills)},
        )

    def find(self, name: str) -> Skill | None:
        i = self._by_name.get(name)
        return None if i is None else self.skills[i]

    def entry_for_uri(self, uri: str) -> dict[str, Any] | None:
        """The SEP entry whose ``uri`` (its SKILL.md) is exactly ``uri``."""
        try:
            name, path = parse_skill_uri(uri)
        except RefusedInput:
            return None
        i = self._by_name.get(name)
        if i is None or path != SKILL_MD:
            return None
        entry = skill_entry(self.skills[i])
        return entry if entry["uri"] == uri else None

    def resources_page(self, cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the precomputed resources/list entries."""
        start, end, next_cursor = self._window(cursor, size)
        return list(self.resources[start:end]), next_cursor

    def entries_page(self, cursor: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:
        """A page of SEP-2640 entries, built on demand (keeping 1,000 of them costs ~0.7 MB of RSS)."""
        start, end, next_cursor = self._window(cursor, size)
        return [skill_entry(skill) for skill in self.skills[start:end]], next_cursor

    def _window(self, cursor: str | None, size: int) -> tuple[int, int, str | None]:
        """The slice after ``cursor`` and the next cursor (None on the last page). The cursor names the
        last skill returned, so a catalog change between pages neither repeats nor skips a skill."""
        start = 0 if cursor is None else bisect.bisect_right(self.names, decode_cursor(cursor))
        end = start + size
        return start, end, encode_cursor(self.names[end - 1]) if end < len(self.names) else None


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise RefusedInput(
            f"invalid cursor {cursor!r}: pass back exactly the nextCursor of the previous page, "
            "or no cursor for the first page"
        ) from exc
    if not isinstance(after, str):
        raise RefusedInput(f"invalid cursor {cursor!r}: pass back exactly the previous page's nextCursor")
    return after


def _resource(skill: Skill) -> dict[str, Any]:
    return {
        "uri": skill_uri(skill.name),
        "name": skill.name,
        "description": skill.description,
        "mimeType": MARKDOWN,
        "size": skill.skill_md_size,
    }


def skill_entry(skill: Skill) -> dict[str, Any]:
    """The SEP-2640 entry: SKILL.md URI, verbatim frontmatter, every file with its sha256 (SKILL.md first)."""
    files = sorted(skill.files, key=lambda f: (f.path != SKILL_MD, f.path))  # SKILL.md first
    return {
        "uri": skill_uri(skill.name),
        "frontmatter": skill.frontmatter,
        "resources": [{"uri": skill_uri(skill.name, f.path), "digest": f.digest} for f in files],
    }
