"""A skill as the evals show it to a model: its name and SKILL.md body, read as the catalog reads it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kernel_skills.catalog import FrontmatterError, SkillMd, parse_skill_md
from kernel_skills.errors import RefusedInput, SkillError

BASE_SYSTEM_PROMPT = "You are an expert software engineer. Answer the question precisely and concisely."


class SkillText(BaseModel):
    name: str
    body: str


def read_skill(skill_dir: Path) -> SkillText:
    """The skill's name and SKILL.md body (frontmatter removed), parsed as the catalog parses it."""
    skill_md = Path(skill_dir) / "SKILL.md"
    if not skill_md.is_file():
        raise RefusedInput(f"{skill_dir} is not a skill folder: it has no SKILL.md")
    try:
        parsed = parse_skill_md(skill_md.read_bytes())
    except OSError as exc:
        raise SkillError(f"cannot read {skill_md}: {exc}") from exc
    except FrontmatterError as exc:
        raise SkillError(f"{skill_md}: {exc}") from exc
    name = parsed.frontmatter.get("name")
    if not isinstance(name, str) or not name:
        raise SkillError(f"{skill_md}: frontmatter has no 'name'")
    return SkillText(name=name, body=parsed.body.strip())


def parse_skill_text(text: str) -> SkillMd:
    """A SKILL.md given as text (a teacher's reply), parsed as the catalog parses a file."""
    return parse_skill_md(text.encode("utf-8"))


def system_prompt(skill: SkillText | None) -> str:
    if skill is None:
        return BASE_SYSTEM_PROMPT
    return (
        f"{BASE_SYSTEM_PROMPT}\n\nYou have loaded the skill '{skill.name}'. Its instructions follow.\n\n"
        f"{skill.body}"
    )
