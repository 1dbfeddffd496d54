"""Hostile or odd frontmatter: refused early and clearly, and what is kept is JSON-safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.catalog import Catalog, SkillRoot, validate_path
from kernel_skills.catalog.limits import MAX_FRONTMATTER_BYTES, MAX_SKILL_MD_BYTES
from kernel_skills.cli import main

from .helpers import deadline, skill_md, write_skill


def _alias_bomb(levels: int = 9) -> str:
    """Billion laughs: 9 levels of 9 aliases each expand to 9**9 (387 million) strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "---\nname: bomb\ndescription: d\n" + "\n".join(lines) + "\n---\nbody\n"


# Expanding a bomb takes minutes and gigabytes; refusing it takes milliseconds. The deadline tells the
# two apart with room to spare on a loaded 2-core machine (no tighter wall-clock assertion).
GUARD_S = 5.0


def test_alias_bomb_is_refused_without_expanding_it_with_a_clear_error(root: Path) -> None:
    folder = write_skill(root, "bomb", _alias_bomb())
    with deadline(GUARD_S):
        result = validate_path(folder)
    assert not result.valid
    assert "alias bomb" in result.errors[0].message
    assert result.errors[0].field == "frontmatter"


def test_alias_bomb_in_a_root_is_listed_invalid_and_nothing_expanded_is_serialised(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_skill(root, "bomb", _alias_bomb())
    with deadline(GUARD_S):
        catalog = Catalog([SkillRoot(path=root)])
    assert catalog.skills() == []
    [bad] = catalog.invalid()
    assert len(bad.model_dump_json()) < 2_000

    assert main(["skills", "list", "--json", "--no-bundled", "--skills-dir", str(root)]) == 1
    out = capsys.readouterr().out
    assert len(out) < 4_000
    assert "lol" not in out


def test_wide_alias_fan_out_is_refused(root: Path) -> None:
    refs = ", ".join(["*x"] * 5_000)
    text = f"---\nname: wide\ndescription: d\nx: &x word\nmany: [{refs}]\n---\n"
    with deadline(GUARD_S):
        result = validate_path(write_skill(root, "wide", text))
    assert "aliases counted each time" in result.errors[0].message


def test_a_few_aliases_are_fine(root: Path) -> None:
    text = skill_md("ok", extra="base: &b {k: v}\none: *b\ntwo: *b\n")
    result = validate_path(write_skill(root, "ok", text))
    assert result.valid, result.errors


def test_recursive_alias_is_refused(root: Path) -> None:
    result = validate_path(write_skill(root, "loop", skill_md("loop", extra="x: &x [*x]\n")))
    assert "recursive alias" in result.errors[0].message


def test_oversized_skill_md_is_refused_before_parsing(root: Path) -> None:
    text = skill_md("big", body="x" * (MAX_SKILL_MD_BYTES + 1))
    with deadline(GUARD_S):
        result = validate_path(write_skill(root, "big", text))
    assert result.errors[0].field == "SKILL.md"
    assert f"the limit is {MAX_SKILL_MD_BYTES} bytes" in result.errors[0].message


def test_oversized_frontmatter_is_refused(root: Path) -> None:
    padding = "".join(f"k{i}: {'v' * 60}\n" for i in range(MAX_FRONTMATTER_BYTES // 60 + 1))
    result = validate_path(write_skill(root, "fat", skill_md("fat", extra=padding)))
    assert result.errors[0].field == "frontmatter"
    assert f"the limit is {MAX_FRONTMATTER_BYTES} bytes" in result.errors[0].message


def test_deep_nesting_is_refused(root: Path) -> None:
    deep = "[" * 200 + "]" * 200
    result = validate_path(write_skill(root, "deep", skill_md("deep", extra=f"x: {deep}\n")))
    assert "nests" in result.errors[0].message


@pytest.mark.parametrize(
    "value",
    ["!!python/object:os.system {}", "!!binary aGVsbG8=", "!custom thing", "!!set {a, b}", "!!omap [a: 1]"],
)
def test_non_core_yaml_tags_are_refused(root: Path, value: str) -> None:
    result = validate_path(write_skill(root, "tags", skill_md("tags", extra=f"x: {value}\n")))
    assert not result.valid
    assert "unsupported YAML tag" in result.errors[0].message


def test_merge_keys_are_refused(root: Path) -> None:
    result = validate_path(
        write_skill(root, "merge", skill_md("merge", extra="a: &a {k: v}\nb:\n  <<: *a\n"))
    )
    assert "merge keys" in result.errors[0].message


def test_frontmatter_is_json_safe_dates_become_strings(root: Path) -> None:
    extra = (
        "created: 2024-05-01\nupdated: 2024-05-01T10:20:30Z\nflag: true\ncount: 3\nratio: .5\n"
        "nan: .nan\nitems: [1, two]\nuser-invocable: false\n"
    )
    write_skill(root, "typed", skill_md("typed", extra=extra))
    skill = Catalog([SkillRoot(path=root)]).get("typed")
    fm = skill.frontmatter
    assert fm["created"] == "2024-05-01"
    assert fm["updated"].startswith("2024-05-01T10:20:30")
    assert fm["flag"] is True and fm["count"] == 3 and fm["ratio"] == 0.5
    assert fm["nan"] == ".nan"
    assert fm["items"] == [1, "two"]
    json.dumps(fm, allow_nan=False)
    json.loads(skill.model_dump_json())


def test_spec_string_fields_keep_their_text(root: Path) -> None:
    write_skill(root, "texty", skill_md("texty", "no", extra="license: 2024\nmetadata:\n  version: 1.10\n"))
    fm = Catalog([SkillRoot(path=root)]).get("texty").frontmatter
    assert fm["description"] == "no"
    assert fm["license"] == "2024"
    assert fm["metadata"] == {"version": "1.10"}
