"""What a skill author reads when a skill is wrong: YAML errors at the file's own line and column in
plain words, and `skills validate PARENT/` saying what it skipped and why. Real files, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.catalog import validate_path
from kernel_skills.cli import main
from kernel_skills.errors import SkillError
from kernel_skills.evals import read_skill

from .helpers import write_skill

GOOD_LINES = ["---", "name: demo", "description: Demo. Use when testing."]


@pytest.mark.parametrize(
    ("frontmatter", "line", "column", "said"),
    [
        (["name: demo", "description: costs: nothing"], 3, 19, "put the value in quotes"),
        (["name: demo", "description: Demo.", "\tlicense: MIT"], 4, 1, "indent with spaces"),
        (["name: demo", "description: [unclosed"], 4, 1, "a `[` list is not closed"),
        (["name: demo", "description: Demo.", "metadata: @team"], 4, 11, "quote a value"),
    ],
)
def test_a_yaml_error_cites_the_files_own_line_and_column_in_plain_words(
    root: Path, frontmatter: list[str], line: int, column: int, said: str
) -> None:
    text = "\n".join(["---", *frontmatter, "---", "Body."]) + "\n"
    folder = write_skill(root, "demo", text)
    (issue,) = validate_path(folder).errors
    assert f"line {line}, column {column}:" in issue.message, issue.message
    assert said in issue.message
    assert "<unicode string>" not in issue.message and '" in "' not in issue.message


def test_the_line_is_the_files_line_with_a_byte_order_mark_and_crlf_too(root: Path) -> None:
    text = "\ufeff---\r\nname: demo\r\ndescription: a: b\r\n---\r\nBody.\r\n"
    (issue,) = validate_path(write_skill(root, "demo", text)).errors
    assert "line 3, column 15:" in issue.message, issue.message


def test_a_duplicate_key_names_the_line_it_appears_again_on(root: Path) -> None:
    text = "\n".join([*GOOD_LINES, "name: demo", "---", ""])
    (issue,) = validate_path(write_skill(root, "demo", text)).errors
    assert issue.message == "key `name` appears twice (again on line 4)"


def test_the_eval_reads_a_skill_with_the_catalogs_parser_and_its_messages(root: Path) -> None:
    folder = write_skill(root, "demo", "---\nname: demo\ndescription: a: b\n---\nBody.\n")
    with pytest.raises(SkillError, match=r"line 3, column 15: mapping values"):
        read_skill(folder)
    fine = write_skill(root, "fine", "---\nname: fine\ndescription: Has --- inside.\n---\n\nThe body.\n")
    assert (read_skill(fine).name, read_skill(fine).body) == ("fine", "The body.")


def _parent(root: Path) -> Path:
    write_skill(root, "good")
    lower = root / "lower"
    lower.mkdir()
    (lower / "skill.md").write_text("---\nname: lower\ndescription: Lower case.\n---\n", encoding="utf-8")
    write_skill(root, ".hidden-skill")
    (root / "notes").mkdir()
    (root / "packed.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (root / ".git").mkdir()
    return root


def test_validate_on_a_parent_validates_a_skill_md_folder_and_reports_what_it_skips(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["skills", "validate", str(_parent(root))])
    out, err = capsys.readouterr()
    assert code == 1  # the skill.md folder is a skill with an error, as `skills list` says
    assert f"{root / 'lower'}: INVALID" in out and "must be named exactly SKILL.md" in out
    assert f"{root / 'good'} (good): valid" in out
    skipped = {line.split(": skipped, ")[0]: line for line in err.splitlines()}
    assert set(skipped) == {str(root / n) for n in (".hidden-skill", "notes", "packed.zip")}
    assert "does not serve it" in skipped[str(root / ".hidden-skill")]
    assert "no SKILL.md in it" in skipped[str(root / "notes")]
    assert "ends in .skill" in skipped[str(root / "packed.zip")]


def test_validate_json_on_a_parent_keeps_one_document_on_stdout(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["skills", "validate", "--json", str(_parent(root))])
    out, err = capsys.readouterr()
    assert code == 1
    assert [(r["path"], r["valid"]) for r in json.loads(out)] == [
        (str(root / "good"), True),
        (str(root / "lower"), False),
    ]
    assert err.count(": skipped, ") == 3
