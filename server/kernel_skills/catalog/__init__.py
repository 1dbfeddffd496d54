"""Agent Skills catalog: parse, validate, index, watch. No MCP imports here."""

from kernel_skills.catalog.frontmatter import FrontmatterError, SkillMd, parse_skill_md
from kernel_skills.catalog.index import Catalog, SkippedEntry, skill_entries
from kernel_skills.catalog.loader import validate_path
from kernel_skills.catalog.roots import CatalogConfig, SkillRoot
from kernel_skills.catalog.watch import watch_catalog

__all__ = [
    "Catalog",
    "CatalogConfig",
    "FrontmatterError",
    "SkillMd",
    "SkillRoot",
    "SkippedEntry",
    "parse_skill_md",
    "skill_entries",
    "validate_path",
    "watch_catalog",
]
