"""Skill roots and their precedence: --skills-dir, KERNEL_SKILLS_PATH, agent folders (opt-in), bundled."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from kernel_skills import paths

ENV_VAR = "KERNEL_SKILLS_PATH"
Origin = Literal["cli", "env", "agent", "bundled"]


class SkillRoot(BaseModel):
    """A folder holding skill folders (and `.skill` packages). A root that itself holds a SKILL.md
    is served as that one skill."""

    path: Path
    origin: Origin = "cli"


class CatalogConfig(BaseModel):
    skills_dirs: list[Path] = Field(default_factory=list)
    use_env: bool = True
    bundled: bool = True
    agent_dirs: bool = False
    expose_paths: bool = True  # False (a server's default): clients see root labels, not absolute paths

    def roots(self) -> list[SkillRoot]:
        """Roots in precedence order (first wins a name clash); duplicates removed."""
        candidates: list[SkillRoot] = [SkillRoot(path=p, origin="cli") for p in self.skills_dirs]
        if self.use_env:
            for part in os.environ.get(ENV_VAR, "").split(os.pathsep):
                if part.strip():
                    candidates.append(SkillRoot(path=Path(part.strip()).expanduser(), origin="env"))
        if self.agent_dirs:
            candidates.extend(SkillRoot(path=p, origin="agent") for p in agent_skill_dirs())
        if self.bundled:
            candidates.append(SkillRoot(path=paths.bundled_skills_dir(), origin="bundled"))
        return dedupe_roots(candidates)


def agent_skill_dirs() -> list[Path]:
    """The folders coding agents conventionally keep skills in: the project's, then the user's."""
    cwd = Path.cwd()
    home = Path.home()
    return [cwd / ".claude" / "skills", cwd / ".agents" / "skills", home / ".claude" / "skills"]


def dedupe_roots(roots: list[SkillRoot]) -> list[SkillRoot]:
    seen: set[Path] = set()
    out: list[SkillRoot] = []
    for root in roots:
        absolute = Path(os.path.abspath(root.path))
        key = absolute.resolve() if absolute.exists() else absolute
        if key in seen:
            continue
        seen.add(key)
        out.append(SkillRoot(path=absolute, origin=root.origin))
    return out
