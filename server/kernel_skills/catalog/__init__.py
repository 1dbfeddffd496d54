"""Agent Skills catalog: parse, validate, index, watch. No MCP imports here."""

from kernel_skills.catalog.frontmatter import FrontmatterError, SkillMd, parse_skill_md
from kernel_skills.catalog.index import Catalog, SkippedEntry, skill_entries
from kernel_skills.catalog.listing import list_skills
from kernel_skills.catalog.loader import validate_path
from kernel_skills.catalog.models import (
    CatalogChange,
    CatalogListing,
    Issue,
    Skill,
    TokenEstimate,
    ValidationResult,
)
from kernel_skills.catalog.roots import CatalogConfig, SkillRoot
from kernel_skills.catalog.uri import SCHEME, SKILL_MD, parse_skill_uri, skill_uri
from kernel_skills.catalog.watch import watch_catalog

__all__ = [
    "SCHEME",
    "SKILL_MD",
    "Catalog",
    "CatalogChange",
    "CatalogConfig",
    "CatalogListing",
    "FrontmatterError",
    "Issue",
    "Skill",
    "SkillMd",
    "SkillRoot",
    "SkippedEntry",
    "TokenEstimate",
    "ValidationResult",
    "list_skills",
    "parse_skill_md",
    "parse_skill_uri",
    "skill_entries",
    "skill_uri",
    "validate_path",
    "watch_catalog",
]
