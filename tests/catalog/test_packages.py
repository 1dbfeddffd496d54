"""`.skill` packages: a zip with the skill folder at its top level, read in place, with limits."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pytest

from kernel_skills.catalog import Catalog, SkillRoot, validate_path
from kernel_skills.catalog.limits import MAX_FILE_BYTES, MAX_FILES_PER_SKILL, MAX_ZIP_BYTES, MAX_ZIP_MEMBERS
from kernel_skills.errors import RefusedInput, SkillError

from .helpers import skill_md, write_package


def test_valid_package_is_served_in_place(root: Path) -> None:
    package = write_package(
        root / "zipped.skill",
        {
            "zipped/SKILL.md": skill_md("zipped"),
            "zipped/references/guide.md": "# Guide\n",
            "zipped/assets/x.png": b"\x89PNG",
        },
    )
    catalog = Catalog([SkillRoot(path=root)])
    skill = catalog.get("zipped")
    assert skill.source == "zip"
    assert skill.location == f"{package}!/zipped"
    assert [f.path for f in skill.files] == ["SKILL.md", "assets/x.png", "references/guide.md"]
    assert catalog.read_file("zipped", "references/guide.md").text == "# Guide\n"
    assert catalog.read_file("zipped", "assets/x.png").blob == b"\x89PNG"
    assert not list(root.glob("zipped/*")), "nothing is extracted"
    assert validate_path(package).valid


def test_package_reads_are_contained(root: Path) -> None:
    write_package(root / "zipped.skill", {"zipped/SKILL.md": skill_md("zipped")})
    catalog = Catalog([SkillRoot(path=root)])
    with pytest.raises(RefusedInput):
        catalog.read_file("zipped", "../zipped/SKILL.md")
    with pytest.raises(SkillError, match="no file"):
        catalog.read_file("zipped", "missing.md")


def _invalid(root: Path) -> str:
    catalog = Catalog([SkillRoot(path=root)])
    assert catalog.skills() == []
    [bad] = catalog.invalid()
    return " ".join(issue.message for issue in bad.errors)


def test_package_with_too_many_members_is_invalid(root: Path) -> None:
    members = {f"many/r/{i}": "" for i in range(MAX_ZIP_MEMBERS)}
    write_package(root / "many.skill", {"many/SKILL.md": skill_md("many"), **members})
    assert f"the limit is {MAX_ZIP_MEMBERS}" in _invalid(root)


def test_package_with_more_than_512_files_is_invalid(root: Path) -> None:
    members = {f"many/r/{i}": "" for i in range(MAX_FILES_PER_SKILL)}
    write_package(root / "many.skill", {"many/SKILL.md": skill_md("many"), **members})
    assert f"the limit is {MAX_FILES_PER_SKILL}" in _invalid(root)


def test_package_too_big_uncompressed_is_invalid(root: Path) -> None:
    write_package(
        root / "big.skill", {"big/SKILL.md": skill_md("big"), "big/zeros.bin": b"\x00" * (MAX_ZIP_BYTES + 1)}
    )
    assert "unpacks to" in _invalid(root)


@pytest.mark.parametrize("member", ["../evil/SKILL.md", "evil/../../x.md", "/abs/SKILL.md", "evil\\..\\x.md"])
def test_package_with_escaping_member_path_is_invalid(root: Path, member: str) -> None:
    write_package(root / "evil.skill", {"evil/SKILL.md": skill_md("evil"), member: "x"})
    assert "is refused" in _invalid(root)


def test_package_with_symlink_member_is_invalid(root: Path) -> None:
    write_package(
        root / "evil.skill", {"evil/SKILL.md": skill_md("evil")}, symlinks={"evil/link": "/etc/passwd"}
    )
    assert "symlink" in _invalid(root)


def test_package_must_hold_exactly_one_folder(root: Path) -> None:
    write_package(root / "two.skill", {"a/SKILL.md": skill_md("a"), "b/SKILL.md": skill_md("b")})
    assert "exactly one top-level skill folder" in _invalid(root)


def test_package_files_must_be_inside_the_folder(root: Path) -> None:
    write_package(root / "flat.skill", {"SKILL.md": skill_md("flat")})
    assert "at the top level" in _invalid(root)


def test_package_folder_name_must_equal_the_skill_name(root: Path) -> None:
    write_package(root / "x.skill", {"folder/SKILL.md": skill_md("other")})
    assert "folder name" in _invalid(root)


def test_corrupt_package_is_invalid_with_a_reason(root: Path) -> None:
    (root / "broken.skill").write_bytes(b"PK\x03\x04 not really a zip")
    assert "cannot read .skill package" in _invalid(root)


def test_package_member_names_are_checked_as_written(tmp_path: Path) -> None:
    """zipfile keeps '..' and absolute member names as written; the catalog must refuse them itself."""
    package = write_package(tmp_path / "p.skill", {"../x": "x", "/abs": "y"})
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == ["../x", "/abs"]


def test_archiver_junk_next_to_the_folder_is_ignored(root: Path) -> None:
    write_package(
        root / "mac.skill",
        {"mac/SKILL.md": skill_md("mac"), "__MACOSX/mac/._SKILL.md": b"\x00", "mac/.DS_Store": b"\x00"},
    )
    assert [f.path for f in Catalog([SkillRoot(path=root)]).get("mac").files] == ["SKILL.md"]


def test_package_with_a_duplicate_member_is_invalid(root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate we want
        write_package(root / "dup.skill", {"dup/SKILL.md": skill_md("dup")})
        with zipfile.ZipFile(root / "dup.skill", "a") as archive:
            archive.writestr("dup/SKILL.md", skill_md("dup", "The second copy."))
    assert "appears twice" in _invalid(root)


def test_package_member_over_the_per_file_cap_is_invalid(root: Path) -> None:
    write_package(
        root / "fat.skill", {"fat/SKILL.md": skill_md("fat"), "fat/x.bin": b"\x00" * (MAX_FILE_BYTES + 1)}
    )
    assert "limit per file" in _invalid(root)
