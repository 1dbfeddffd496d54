"""Errors a client can see name paths relative to the skill or the root, never the server's
absolute paths (they would tell where the server keeps its files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_skills.catalog import Catalog, SkillRoot
from kernel_skills.errors import KernelSkillsError

from .helpers import write_package, write_skill


def _message(catalog: Catalog, name: str, path: str | None = None) -> str:
    with pytest.raises(KernelSkillsError) as caught:
        if path is None:
            catalog.get(name)
        else:
            catalog.read_file(name, path)
    return str(caught.value)


def _assert_relative(message: str, root: Path) -> None:
    assert str(root) not in message and str(root.resolve()) not in message


def test_a_missing_file_in_a_skill_folder_is_named_relative_to_the_skill(root: Path) -> None:
    write_skill(root, "alpha", files={"references/guide.md": "# g\n"})
    message = _message(Catalog([SkillRoot(path=root)]), "alpha", "references/nope.md")
    assert "'references/nope.md'" in message and "'alpha'" in message
    _assert_relative(message, root)


def test_a_folder_read_as_a_file_is_named_relative_to_the_skill(root: Path) -> None:
    write_skill(root, "alpha", files={"references/guide.md": "# g\n"})
    message = _message(Catalog([SkillRoot(path=root)]), "alpha", "references")
    _assert_relative(message, root)


def test_a_symlink_loop_is_refused_without_the_server_path(root: Path) -> None:
    folder = write_skill(root, "alpha")
    (folder / "loop").symlink_to(folder / "loop")
    message = _message(Catalog([SkillRoot(path=root)]), "alpha", "loop/x.md")
    _assert_relative(message, root)


def test_an_invalid_skill_is_named_by_its_folder_not_its_location(root: Path) -> None:
    write_skill(root, "broken", text="---\nname: broken\n---\nno description\n")
    message = _message(Catalog([SkillRoot(path=root)]), "broken")
    assert "'broken'" in message and "invalid" in message
    _assert_relative(message, root)


def test_a_missing_file_in_a_package_is_named_relative_to_the_package(root: Path) -> None:
    write_package(
        root / "zipped.skill", {"zipped/SKILL.md": "---\nname: zipped\ndescription: Does z. Use it.\n---\n"}
    )
    message = _message(Catalog([SkillRoot(path=root)]), "zipped", "nope.md")
    assert "'zipped.skill'" in message
    _assert_relative(message, root)
