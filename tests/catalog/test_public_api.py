"""The catalog's public names are a contract with the MCP surface (CONTRACTS.md "Catalog API")."""

from __future__ import annotations

import inspect

import kernel_skills.catalog as catalog_pkg
from kernel_skills.catalog import Catalog, watch_catalog
from kernel_skills.catalog.models import CatalogChange


def test_public_names_are_pinned() -> None:
    assert sorted(catalog_pkg.__all__) == [
        "Catalog",
        "CatalogChange",
        "CatalogConfig",
        "CatalogListing",
        "FrontmatterError",
        "Issue",
        "SCHEME",
        "SKILL_MD",
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


def test_catalog_methods_are_pinned() -> None:
    for name in ("from_config", "skills", "invalid", "get", "read_file", "reload"):
        assert callable(getattr(Catalog, name))
    assert isinstance(Catalog.roots, property)
    params = inspect.signature(watch_catalog).parameters
    assert list(params)[:4] == ["catalog", "on_change", "debounce_ms", "stop_event"]
    assert params["debounce_ms"].default == 50
    assert params["poll_ms"].kind is inspect.Parameter.KEYWORD_ONLY


def test_an_empty_change_is_empty() -> None:
    assert CatalogChange().empty
    assert not CatalogChange(invalid_changed=True).empty
