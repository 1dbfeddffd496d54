"""Several roots in precedence order; the first definition of a name wins and shadowing is reported."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kernel_skills import paths
from kernel_skills.catalog import Catalog, CatalogConfig, SkillRoot
from kernel_skills.errors import SkillError

from .helpers import skill_md, write_skill


def test_roots_come_in_precedence_order_cli_env_agent_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_a, cli_b, env_a, env_b = (tmp_path / n for n in ("cli-a", "cli-b", "env-a", "env-b"))
    monkeypatch.setenv("KERNEL_SKILLS_PATH", os.pathsep.join([str(env_a), "", str(env_b)]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    roots = CatalogConfig(skills_dirs=[cli_a, cli_b], agent_dirs=True).roots()
    assert [(r.origin, r.path) for r in roots] == [
        ("cli", cli_a),
        ("cli", cli_b),
        ("env", env_a),
        ("env", env_b),
        ("agent", tmp_path / ".claude" / "skills"),
        ("agent", tmp_path / ".agents" / "skills"),
        ("agent", tmp_path / "home" / ".claude" / "skills"),
        ("bundled", paths.bundled_skills_dir()),
    ]


def test_agent_dirs_env_and_bundled_can_be_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERNEL_SKILLS_PATH", str(tmp_path / "env"))
    config = CatalogConfig(skills_dirs=[tmp_path / "cli"], use_env=False, bundled=False)
    assert [r.origin for r in config.roots()] == ["cli"]
    assert [r.origin for r in CatalogConfig(bundled=False).roots()] == ["env"]


def test_the_same_folder_twice_is_one_root(tmp_path: Path) -> None:
    config = CatalogConfig(skills_dirs=[tmp_path, tmp_path / "." / ""], use_env=False, bundled=False)
    assert len(config.roots()) == 1


def test_higher_precedence_root_wins_and_the_shadowing_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_skill(first, "shared", skill_md("shared", "From the first root."))
    write_skill(second, "shared", skill_md("shared", "From the second root."))
    write_skill(second, "only-second")
    with caplog.at_level(logging.WARNING, logger="kernel_skills.catalog"):
        catalog = Catalog([SkillRoot(path=first, origin="cli"), SkillRoot(path=second, origin="env")])
    shared = catalog.get("shared")
    assert shared.description == "From the first root."
    assert shared.root == str(first)
    assert shared.shadows == [str(second / "shared")]
    assert [s.name for s in catalog.skills()] == ["only-second", "shared"]
    assert "shadows the same name" in caplog.text


def test_invalid_higher_precedence_skill_does_not_hide_a_valid_one(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_skill(first, "shared", "---\nname: shared\n---\n")
    write_skill(second, "shared")
    catalog = Catalog([SkillRoot(path=first), SkillRoot(path=second)])
    assert catalog.get("shared").root == str(second)
    assert [bad.location for bad in catalog.invalid()] == [str(first / "shared")]


def test_env_roots_are_read_from_kernel_skills_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_skill(one, "from-one")
    write_skill(two, "from-two")
    monkeypatch.setenv("KERNEL_SKILLS_PATH", f"{one}{os.pathsep}{two}")
    catalog = Catalog.from_config(CatalogConfig(bundled=False))
    assert [s.name for s in catalog.skills()] == ["from-one", "from-two"]


def test_invalid_skills_are_listed_and_logged_not_dropped(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_skill(root, "good")
    write_skill(root, "Bad-Name")
    with caplog.at_level(logging.WARNING, logger="kernel_skills.catalog"):
        catalog = Catalog([SkillRoot(path=root)])
    assert [s.name for s in catalog.skills()] == ["good"]
    [bad] = catalog.invalid()
    assert bad.name == "Bad-Name"
    assert bad.location == str(root / "Bad-Name")
    assert {issue.field for issue in bad.errors} == {"name"}
    assert "Bad-Name" in caplog.text and "not served" in caplog.text


def test_a_missing_root_is_no_error(tmp_path: Path) -> None:
    catalog = Catalog([SkillRoot(path=tmp_path / "nope")])
    assert catalog.skills() == [] and catalog.invalid() == []


def test_a_root_that_is_itself_a_skill_folder_serves_that_skill(tmp_path: Path) -> None:
    folder = write_skill(tmp_path, "solo")
    catalog = Catalog([SkillRoot(path=folder)])
    assert [s.name for s in catalog.skills()] == ["solo"]


def test_hidden_folders_and_plain_files_in_a_root_are_not_skills(root: Path) -> None:
    write_skill(root, "good")
    (root / ".hidden").mkdir()
    (root / "README.md").write_text("# my skills\n")
    catalog = Catalog([SkillRoot(path=root)])
    assert [s.name for s in catalog.skills()] == ["good"] and catalog.invalid() == []


def test_get_of_an_invalid_skill_says_why(root: Path) -> None:
    write_skill(root, "broken", "---\nname: broken\n---\n")
    catalog = Catalog([SkillRoot(path=root)])
    with pytest.raises(SkillError, match="is invalid and not served: description"):
        catalog.get("broken")


def test_get_of_a_skill_whose_yaml_is_broken_says_why_by_folder_name(root: Path) -> None:
    write_skill(root, "broken", "---\nname: [\n---\n")
    catalog = Catalog([SkillRoot(path=root)])
    with pytest.raises(SkillError, match="is invalid and not served: frontmatter"):
        catalog.get("broken")
