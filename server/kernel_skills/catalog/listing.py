"""The one skill listing: ``kernel-skills skills list --json`` and the MCP ``list_skills`` tool both
return ``list_skills(catalog, query)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel_skills.catalog.models import CatalogListing, RootInfo, SkillSummary

if TYPE_CHECKING:
    from kernel_skills.catalog.index import Catalog


def list_skills(catalog: Catalog, query: str | None = None) -> CatalogListing:
    """Served skills by name (only those whose name or description contains ``query``, case-insensitive,
    when one is given), then every invalid skill folder with its errors, and the roots in precedence order;
    paths as the catalog shows them (root labels, unless it exposes paths)."""
    needle = (query or "").strip().lower()
    served = catalog.skills()
    listing = CatalogListing(
        roots=[RootInfo(path=str(r.path), origin=r.origin, exists=r.path.is_dir()) for r in catalog.roots],
        skills=[
            SkillSummary.of(skill)
            for skill in served
            if not needle or needle in skill.name.lower() or needle in skill.description.lower()
        ],
        invalid=catalog.invalid(),
        total=len(served),
    )
    return CatalogListing.model_validate(catalog.shown(listing.model_dump()))
