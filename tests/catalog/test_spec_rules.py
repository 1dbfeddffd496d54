"""Every rule of the Agent Skills specification, checked on real folders via validate_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel_skills.catalog import validate_path
from kernel_skills.catalog.limits import BODY_LINE_WARNING, BODY_TOKEN_WARNING

from .helpers import skill_md, write_skill


def _errors(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for issue in result.errors:
        out.setdefault(issue.field, []).append(issue.message)
    return out


@pytest.mark.parametrize(
    "name",
    ["a", "pdf-processing", "x" * 64, "data2-tool", "0", "a1-b2-c3"],
)
def test_valid_names_are_accepted(root: Path, name: str) -> None:
    result = validate_path(write_skill(root, name))
    assert result.valid, result.errors
    assert result.name == name


@pytest.mark.parametrize(
    ("folder", "name", "rule"),
    [
        ("x" * 65, "x" * 65, "1-64 characters"),
        ("pdf-Processing", "pdf-Processing", "lowercase a-z"),
        ("pdf_processing", "pdf_processing", "lowercase a-z"),
        ("pdf.processing", "pdf.processing", "lowercase a-z"),
        ("café", "café", "lowercase a-z"),
        ("-pdf", "-pdf", "start or end with '-'"),
        ("pdf-", "pdf-", "start or end with '-'"),
        ("pdf--processing", "pdf--processing", "consecutive hyphens"),
        ("other-folder", "pdf-processing", "folder name"),
    ],
)
def test_name_rules_are_errors_that_name_the_field_and_rule(
    root: Path, folder: str, name: str, rule: str
) -> None:
    result = validate_path(write_skill(root, folder, skill_md(name)))
    assert not result.valid
    assert any(rule in message for message in _errors(result)["name"]), result.errors


def test_missing_name_and_description_are_errors(root: Path) -> None:
    result = validate_path(write_skill(root, "a", "---\nlicense: MIT\n---\nbody\n"))
    errors = _errors(result)
    assert "is required" in errors["name"][0]
    assert "is required" in errors["description"][0]


@pytest.mark.parametrize("value", ['""', "''", "   ", "", "[a, b]", "{a: b}"])
def test_blank_or_non_string_name_is_an_error(root: Path, value: str) -> None:
    result = validate_path(write_skill(root, "a", f"---\nname: {value}\ndescription: d\n---\n"))
    assert "name" in _errors(result)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ('""', "1-1024 characters"),
        ('"   "', "not blank"),
        ("x" * 1025, "at most 1024"),
        ("[a]", "must be a string"),
    ],
)
def test_description_must_be_non_empty_and_at_most_1024_chars(root: Path, value: str, rule: str) -> None:
    result = validate_path(write_skill(root, "a", f"---\nname: a\ndescription: {value}\n---\n"))
    assert any(rule in m for m in _errors(result)["description"]), result.errors


def test_description_of_exactly_1024_chars_is_valid(root: Path) -> None:
    assert validate_path(write_skill(root, "a", skill_md("a", "d" * 1024))).valid


def test_description_reads_yaml_booleans_as_text(root: Path) -> None:
    """strictyaml (used by skills-ref) reads `yes` as the string "yes"; so do we for string fields."""
    result = validate_path(write_skill(root, "a", skill_md("a", "yes")))
    assert result.valid


@pytest.mark.parametrize(("value", "valid"), [("c" * 500, True), ("c" * 501, False), ('""', False)])
def test_compatibility_is_1_to_500_chars(root: Path, value: str, valid: bool) -> None:
    result = validate_path(write_skill(root, "a", skill_md("a", extra=f"compatibility: {value}\n")))
    assert result.valid is valid
    if not valid:
        assert "compatibility" in _errors(result)


def test_metadata_must_map_strings_to_strings(root: Path) -> None:
    ok = validate_path(
        write_skill(root, "a", skill_md("a", extra="metadata:\n  author: me\n  version: 1.0\n"))
    )
    assert ok.valid, "scalars are read as their text, as in strictyaml"
    nested = validate_path(write_skill(root, "b", skill_md("b", extra="metadata:\n  nested:\n    x: y\n")))
    assert "must be strings" in _errors(nested)["metadata.nested"][0]
    listed = validate_path(write_skill(root, "c", skill_md("c", extra="metadata: [a, b]\n")))
    assert "map of string keys to string values" in _errors(listed)["metadata"][0]


def test_allowed_tools_must_be_a_string(root: Path) -> None:
    assert validate_path(
        write_skill(root, "a", skill_md("a", extra="allowed-tools: Bash(git:*) Read\n"))
    ).valid
    result = validate_path(
        write_skill(root, "b", skill_md("b", extra="allowed-tools:\n  - Bash\n  - Read\n"))
    )
    assert "space-separated string" in _errors(result)["allowed-tools"][0]


def test_license_must_be_a_string(root: Path) -> None:
    assert validate_path(write_skill(root, "a", skill_md("a", extra="license: Apache-2.0\n"))).valid
    result = validate_path(write_skill(root, "b", skill_md("b", extra="license: [MIT]\n")))
    assert "license" in _errors(result)


def test_unknown_keys_are_warnings_not_errors(root: Path) -> None:
    text = skill_md("a", extra="disable-model-invocation: true\nuser-invocable: false\n")
    result = validate_path(write_skill(root, "a", text))
    assert result.valid
    fields = {w.field for w in result.warnings}
    assert {"disable-model-invocation", "user-invocable"} <= fields
    assert all("not an Agent Skills spec field" in w.message for w in result.warnings)


def test_long_body_warns_about_tokens_and_lines(root: Path) -> None:
    long_lines = "x\n" * (BODY_LINE_WARNING + 1)
    many_tokens = "word " * (BODY_TOKEN_WARNING + 10)
    lines = validate_path(write_skill(root, "a", skill_md("a", body=long_lines)))
    tokens = validate_path(write_skill(root, "b", skill_md("b", body=many_tokens)))
    assert lines.valid and tokens.valid
    assert any("lines" in w.message for w in lines.warnings if w.field == "body")
    assert any("tokens (estimate)" in w.message for w in tokens.warnings if w.field == "body")
    short = validate_path(write_skill(root, "c"))
    assert not [w for w in short.warnings if w.field == "body"]


def test_token_estimate_is_reported_and_says_it_is_an_estimate(root: Path) -> None:
    result = validate_path(write_skill(root, "a", skill_md("a", "d" * 400, body="b" * 4000)))
    assert result.tokens is not None
    assert result.tokens.description == 100
    assert result.tokens.body == 1000
    assert "estimate" in result.tokens.method


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# no frontmatter\n", "must start with a `---` line"),
        ("---\nname: a\ndescription: d\n", "not closed"),
        ("---\n---\nbody\n", "frontmatter is empty"),
        ("---\n- a\n- b\n---\n", "must be a YAML mapping"),
        ("---\nname: [unclosed\n---\n", "not valid YAML"),
        ("---\nname: a\nname: a\ndescription: d\n---\n", "appears twice"),
    ],
)
def test_malformed_skill_md_is_an_error_with_a_reason(root: Path, text: str, message: str) -> None:
    result = validate_path(write_skill(root, "a", text))
    assert not result.valid
    assert any(message in issue.message for issue in result.errors), result.errors


def test_skill_md_must_be_utf8(root: Path) -> None:
    folder = write_skill(root, "a")
    (folder / "SKILL.md").write_bytes(b"---\nname: a\ndescription: caf\xe9\n---\n")
    result = validate_path(folder)
    assert "not valid UTF-8" in result.errors[0].message


def test_lowercase_skill_md_is_refused_with_a_rename_hint(root: Path) -> None:
    folder = write_skill(root, "a")
    (folder / "SKILL.md").rename(folder / "skill.md")
    result = validate_path(folder)
    assert "must be named exactly SKILL.md" in result.errors[0].message


def test_folder_without_skill_md_is_an_error(root: Path) -> None:
    (root / "empty").mkdir()
    result = validate_path(root / "empty")
    assert result.errors[0].field == "SKILL.md"


def test_crlf_and_bom_are_accepted(root: Path) -> None:
    folder = root / "a"
    folder.mkdir()
    (folder / "SKILL.md").write_bytes(b"\xef\xbb\xbf---\r\nname: a\r\ndescription: d\r\n---\r\nbody\r\n")
    assert validate_path(folder).valid


def test_validate_path_accepts_a_skill_md_file(root: Path) -> None:
    folder = write_skill(root, "a")
    assert validate_path(folder / "SKILL.md").name == "a"


def test_invalid_skills_still_get_a_token_estimate(root: Path) -> None:
    result = validate_path(write_skill(root, "a", skill_md("Not-Valid", "d" * 40, body="b" * 400)))
    assert not result.valid
    assert result.tokens is not None and (result.tokens.description, result.tokens.body) == (10, 100)
