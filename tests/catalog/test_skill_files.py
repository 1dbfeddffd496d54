"""Skill.files: every file with size, sha256 digest and MIME type; junk skipped; SEP-2640 limits."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kernel_skills.catalog import Catalog, SkillRoot
from kernel_skills.catalog.limits import MAX_DIR_DEPTH, MAX_FILES_PER_SKILL, MAX_SKILL_BYTES, MIB

from .helpers import write_skill


def test_files_list_every_file_with_size_digest_and_mime_type(root: Path) -> None:
    files = {
        "references/guide.md": "# Guide\n",
        "scripts/run.py": "print('hi')\n",
        "assets/data.bin": b"\x00\x01\x02",
        "notes": "plain words\n",
        "kernel.cu": "__global__ void k() {}\n",
    }
    folder = write_skill(root, "alpha", files=files)
    skill = Catalog([SkillRoot(path=root)]).get("alpha")
    by_path = {f.path: f for f in skill.files}
    assert list(by_path) == sorted(by_path)
    assert set(by_path) == {"SKILL.md", *files}
    for rel, entry in by_path.items():
        data = (folder / rel).read_bytes()
        assert entry.size == len(data)
        assert entry.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert by_path["SKILL.md"].mime_type == "text/markdown"
    assert by_path["scripts/run.py"].mime_type == "text/x-python"
    assert by_path["assets/data.bin"].mime_type == "application/octet-stream"
    assert by_path["notes"].mime_type == "text/plain"
    assert by_path["kernel.cu"].mime_type == "text/x-cuda"
    assert skill.skill_md_size == by_path["SKILL.md"].size


def test_junk_files_are_skipped(root: Path) -> None:
    junk = {
        ".git/HEAD": "ref\n",
        "scripts/__pycache__/run.cpython-311.pyc": b"\x00",
        ".DS_Store": b"\x00",
        "references/.guide.md.swp": b"\x00",
        "references/guide.md~": "old\n",
    }
    write_skill(root, "alpha", files={"references/guide.md": "# Guide\n", **junk})
    skill = Catalog([SkillRoot(path=root)]).get("alpha")
    assert [f.path for f in skill.files] == ["SKILL.md", "references/guide.md"]


def test_more_than_512_files_make_the_skill_invalid(root: Path) -> None:
    write_skill(root, "many", files={f"r/{i}.md": "x" for i in range(MAX_FILES_PER_SKILL)})
    catalog = Catalog([SkillRoot(path=root)])
    [bad] = catalog.invalid()
    assert f"the limit is {MAX_FILES_PER_SKILL}" in bad.errors[0].message
    assert catalog.skills() == []


def test_exactly_512_files_are_fine(root: Path) -> None:
    write_skill(root, "many", files={f"r/{i}.md": "x" for i in range(MAX_FILES_PER_SKILL - 1)})
    assert len(Catalog([SkillRoot(path=root)]).get("many").files) == MAX_FILES_PER_SKILL


def test_more_than_16_mib_make_the_skill_invalid(root: Path) -> None:
    folder = write_skill(root, "heavy")
    for i in range(3):
        with open(folder / f"part{i}.bin", "wb") as handle:
            handle.truncate(6 * MIB)  # sparse: costs no disk
    [bad] = Catalog([SkillRoot(path=root)]).invalid()
    assert f"the limit is {MAX_SKILL_BYTES} bytes" in bad.errors[0].message


def test_folders_nested_too_deep_make_the_skill_invalid(root: Path) -> None:
    write_skill(root, "deep", files={"/".join(["d"] * (MAX_DIR_DEPTH + 2)) + "/x.md": "x"})
    [bad] = Catalog([SkillRoot(path=root)]).invalid()
    assert f"deeper than {MAX_DIR_DEPTH} levels" in bad.errors[0].message
