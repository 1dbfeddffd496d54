"""Every file read stays inside the skill folder; escapes are RefusedInput with no content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kernel_skills.catalog import Catalog, SkillRoot
from kernel_skills.catalog.limits import MAX_FILE_BYTES
from kernel_skills.errors import RefusedInput, SkillError

from .helpers import write_skill


@pytest.fixture
def catalog(tmp_path: Path, root: Path) -> Catalog:
    folder = write_skill(
        root, "alpha", files={"references/guide.md": "# Guide\n", "assets/logo.png": b"\x89PNG\r\n"}
    )
    write_skill(root, "beta", files={"secret.md": "beta's own file\n"})
    (tmp_path / "outside.txt").write_text("outside the skill\n")
    os.symlink(tmp_path / "outside.txt", folder / "references" / "escape.md")
    os.symlink(root / "beta", folder / "sibling")
    os.symlink("guide.md", folder / "references" / "alias.md")
    return Catalog([SkillRoot(path=root)])


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../beta/SKILL.md", "'..'"),
        ("references/../../beta/secret.md", "'..'"),
        ("..", "'..'"),
        ("%2e%2e/beta/SKILL.md", "percent-encoding"),
        ("%2E%2E%2Fbeta%2FSKILL.md", "percent-encoding"),
        ("references%2fguide.md", "percent-encoding"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/win.ini", "absolute"),
        ("..\\beta\\SKILL.md", "backslash"),
        ("references\\guide.md", "backslash"),
        ("SKILL.md\x00.png", "NUL"),
        ("", "empty"),
        ("references//guide.md", "empty or '.' segment"),
        ("./SKILL.md", "empty or '.' segment"),
        ("references/escape.md", "resolves outside the skill folder"),
        ("sibling/secret.md", "resolves outside the skill folder"),
    ],
)
def test_escaping_paths_are_refused_with_a_clear_message(catalog: Catalog, path: str, reason: str) -> None:
    with pytest.raises(RefusedInput) as caught:
        catalog.read_file("alpha", path)
    message = str(caught.value)
    assert reason in message
    assert "relative POSIX path inside the skill folder" in message
    assert "outside the skill\n" not in message and "beta's own file" not in message


def test_symlink_inside_the_folder_pointing_inside_is_served(catalog: Catalog) -> None:
    content = catalog.read_file("alpha", "references/alias.md")
    assert content.text == "# Guide\n"


def test_symlinks_leaving_the_folder_are_not_listed_and_are_warned_about(catalog: Catalog) -> None:
    skill = catalog.get("alpha")
    paths = {f.path for f in skill.files}
    assert "references/escape.md" not in paths
    assert "references/alias.md" in paths
    assert any("references/escape.md" in w.message for w in skill.warnings)


def test_missing_file_is_a_skill_error(catalog: Catalog) -> None:
    with pytest.raises(SkillError, match=r"no file 'references/none\.md'"):
        catalog.read_file("alpha", "references/none.md")


def test_a_folder_is_not_a_file(catalog: Catalog) -> None:
    with pytest.raises(SkillError, match="not a file"):
        catalog.read_file("alpha", "references")


def test_version_control_files_are_not_served(root: Path) -> None:
    write_skill(root, "vc", files={".git/config": "[core]\n"})
    catalog = Catalog([SkillRoot(path=root)])
    with pytest.raises(SkillError, match="not served"):
        catalog.read_file("vc", ".git/config")


def test_unknown_skill_is_a_skill_error_naming_close_matches(catalog: Catalog) -> None:
    with pytest.raises(SkillError, match="did you mean alpha"):
        catalog.read_file("alpah", "SKILL.md")


def test_files_over_the_per_file_cap_make_the_skill_invalid(root: Path) -> None:
    folder = write_skill(root, "huge")
    with open(folder / "big.bin", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    catalog = Catalog([SkillRoot(path=root)])
    [bad] = catalog.invalid()
    assert "limit per file" in bad.errors[0].message


def test_text_comes_back_as_text_and_binary_as_blob(catalog: Catalog) -> None:
    md = catalog.read_file("alpha", "SKILL.md")
    assert md.mime_type == "text/markdown" and md.text is not None and md.blob is None
    png = catalog.read_file("alpha", "assets/logo.png")
    assert png.mime_type == "image/png" and png.blob == b"\x89PNG\r\n" and png.text is None
    assert png.size == 6


def test_symlink_loops_and_special_files_are_not_served(root: Path) -> None:
    folder = write_skill(root, "odd")
    os.symlink("loop", folder / "loop")
    os.mkfifo(folder / "pipe")
    catalog = Catalog([SkillRoot(path=root)])
    assert [f.path for f in catalog.get("odd").files] == ["SKILL.md"]
    with pytest.raises((RefusedInput, SkillError)):
        catalog.read_file("odd", "loop")
    with pytest.raises(SkillError, match="not a file"):
        catalog.read_file("odd", "pipe")


def test_a_symlinked_skill_folder_in_a_root_is_served(tmp_path: Path, root: Path) -> None:
    real = write_skill(tmp_path / "elsewhere", "linked", files={"references/a.md": "A\n"})
    os.symlink(real, root / "linked")
    catalog = Catalog([SkillRoot(path=root)])
    assert catalog.read_file("linked", "references/a.md").text == "A\n"
