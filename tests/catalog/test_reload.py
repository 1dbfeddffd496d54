"""Incremental reload: only touched skills are re-indexed; the change says what changed; stale-on-edit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kernel_skills.catalog import Catalog, SkillRoot
from kernel_skills.catalog.models import CatalogChange

from .helpers import skill_md, write_package, write_skill


def _catalog(*roots: Path) -> Catalog:
    return Catalog([SkillRoot(path=r) for r in roots])


def test_editing_a_file_reports_the_skill_and_the_file(root: Path) -> None:
    folder = write_skill(root, "alpha", files={"references/guide.md": "v1\n"})
    write_skill(root, "beta")
    catalog = _catalog(root)
    (folder / "references" / "guide.md").write_text("v2\n")
    change = catalog.reload({folder / "references" / "guide.md"})
    assert change == CatalogChange(changed=["alpha"], files=[("alpha", "references/guide.md")])
    assert catalog.version == 1
    assert catalog.read_file("alpha", "references/guide.md").text == "v2\n"


def test_only_skills_containing_changed_paths_are_reindexed(root: Path) -> None:
    alpha = write_skill(root, "alpha")
    beta = write_skill(root, "beta")
    catalog = _catalog(root)
    # beta changes on disk but is not named: an incremental reload must not pick it up
    (beta / "SKILL.md").write_text(skill_md("beta", "Changed without telling."))
    (alpha / "SKILL.md").write_text(skill_md("alpha", "Told."))
    change = catalog.reload({alpha / "SKILL.md"})
    assert change.changed == ["alpha"]
    assert catalog.get("beta").description != "Changed without telling."
    assert catalog.reload(None).changed == ["beta"]


def test_new_and_removed_folders_are_added_and_removed(root: Path) -> None:
    write_skill(root, "alpha")
    catalog = _catalog(root)
    gamma = write_skill(root, "gamma")
    assert catalog.reload({gamma / "SKILL.md"}) == CatalogChange(added=["gamma"])
    shutil.rmtree(gamma)
    assert catalog.reload({gamma}) == CatalogChange(removed=["gamma"])
    assert catalog.version == 2


def test_a_change_to_the_root_itself_picks_up_new_and_removed_entries(root: Path) -> None:
    alpha = write_skill(root, "alpha")
    catalog = _catalog(root)
    shutil.rmtree(alpha)
    write_skill(root, "beta")
    write_package(root / "zipped.skill", {"zipped/SKILL.md": skill_md("zipped")})
    change = catalog.reload({root})
    assert change.added == ["beta", "zipped"] and change.removed == ["alpha"]


def test_unrelated_paths_change_nothing_and_do_not_bump_the_version(tmp_path: Path, root: Path) -> None:
    write_skill(root, "alpha")
    catalog = _catalog(root)
    assert catalog.reload({tmp_path / "elsewhere.txt", root / ".hidden" / "x"}).empty
    assert catalog.reload({root / "alpha" / "SKILL.md"}).empty, "rewritten with the same content"
    assert catalog.reload(None).empty
    assert catalog.version == 0


def test_a_skill_broken_mid_edit_keeps_serving_its_last_valid_version_marked_stale(root: Path) -> None:
    folder = write_skill(root, "alpha", skill_md("alpha", "The good version."))
    catalog = _catalog(root)
    (folder / "SKILL.md").write_text("---\nname: alpha\ndescription: [half typed\n---\n")
    change = catalog.reload({folder / "SKILL.md"})
    assert change.changed == ["alpha"]
    skill = catalog.get("alpha")
    assert skill.stale and skill.description == "The good version."
    assert skill.stale_errors and skill.stale_errors[0].field == "frontmatter"
    assert "The good version." in (catalog.read_file("alpha", "SKILL.md").text or "")
    assert catalog.invalid() == []

    (folder / "SKILL.md").write_text(skill_md("alpha", "The fixed version."))
    catalog.reload({folder / "SKILL.md"})
    skill = catalog.get("alpha")
    assert not skill.stale and skill.stale_errors == [] and skill.description == "The fixed version."


def test_a_skill_that_was_never_valid_is_invalid_not_stale(root: Path) -> None:
    folder = write_skill(root, "alpha", "---\nname: alpha\n---\n")
    catalog = _catalog(root)
    assert catalog.skills() == []
    (folder / "SKILL.md").write_text("---\nname: alpha\ndescription: [\n---\n")
    change = catalog.reload({folder / "SKILL.md"})
    assert change == CatalogChange(invalid_changed=True)
    assert catalog.invalid()[0].errors[0].field == "frontmatter"


def test_fixing_an_invalid_skill_adds_it(root: Path) -> None:
    folder = write_skill(root, "alpha", "---\nname: alpha\n---\n")
    catalog = _catalog(root)
    (folder / "SKILL.md").write_text(skill_md("alpha"))
    change = catalog.reload({folder / "SKILL.md"})
    assert change == CatalogChange(added=["alpha"], invalid_changed=True)
    assert catalog.invalid() == []


def test_removing_the_winner_unshadows_the_next_root(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    winner = write_skill(first, "shared", skill_md("shared", "first"))
    write_skill(second, "shared", skill_md("shared", "second"))
    catalog = _catalog(first, second)
    shutil.rmtree(winner)
    change = catalog.reload({winner / "SKILL.md"})
    assert change.changed == ["shared"]
    skill = catalog.get("shared")
    assert skill.description == "second" and skill.shadows == []


def test_editing_a_package_reloads_it(root: Path) -> None:
    package = write_package(root / "zipped.skill", {"zipped/SKILL.md": skill_md("zipped", "v1")})
    catalog = _catalog(root)
    package.unlink()
    write_package(package, {"zipped/SKILL.md": skill_md("zipped", "v2"), "zipped/new.md": "new\n"})
    change = catalog.reload({package})
    assert change.changed == ["zipped"]
    assert change.files == [("zipped", "SKILL.md"), ("zipped", "new.md")]


def test_a_same_size_edit_is_noticed_by_a_full_rescan(root: Path) -> None:
    folder = write_skill(root, "alpha", files={"references/a.md": "one\n"})
    catalog = _catalog(root)
    (folder / "references" / "a.md").write_text("two\n")
    assert catalog.reload(None).files == [("alpha", "references/a.md")]
    assert catalog.read_file("alpha", "references/a.md").text == "two\n"


def test_an_unchanged_rescan_keeps_the_same_skill_objects(root: Path) -> None:
    write_skill(root, "alpha", files={"references/a.md": "one\n"})
    catalog = _catalog(root)
    before = catalog.get("alpha")
    assert catalog.reload(None).empty
    assert catalog.get("alpha") is before


def test_an_edit_reported_under_a_symlinked_folders_real_path_reloads_that_skill(
    tmp_path: Path, root: Path
) -> None:
    real = write_skill(tmp_path / "repo", "linked", files={"references/a.md": "v1\n"})
    os.symlink(real, root / "linked")
    catalog = _catalog(root)
    assert catalog.watch_paths() == [root, real]
    (real / "references" / "a.md").write_text("v2\n")
    assert catalog.reload({real / "references" / "a.md"}).files == [("linked", "references/a.md")]
