"""`kernel-skills skills list|validate`: exit codes, human text and --json documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel_skills.cli import main

from .helpers import skill_md, write_skill


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_served_skills_and_exits_0(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_skill(root, "alpha", skill_md("alpha", "Alpha helps with alpha things."))
    code, out, _ = _run(capsys, "skills", "list", "--no-bundled", "--skills-dir", str(root))
    assert code == 0
    assert "alpha" in out and "Alpha helps with alpha things." in out
    assert "tokens, estimated" in out
    assert "Invalid" not in out


def test_list_shows_invalid_skills_with_errors_and_exits_1(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_skill(root, "alpha")
    write_skill(root, "broken", "---\nname: broken\n---\n")
    code, out, _ = _run(capsys, "skills", "list", "--no-bundled", "--skills-dir", str(root))
    assert code == 1
    assert "Invalid, not served: 1" in out
    assert "error: description: is required" in out


def test_list_reports_shadowing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_skill(tmp_path / "a", "shared")
    write_skill(tmp_path / "b", "shared")
    argv = [
        "skills",
        "list",
        "--no-bundled",
        "--skills-dir",
        str(tmp_path / "a"),
        "--skills-dir",
        str(tmp_path / "b"),
    ]
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    assert f"shadows {tmp_path / 'b' / 'shared'}" in out


def test_list_json_is_one_document(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_skill(root, "alpha", skill_md("alpha", extra="user-invocable: true\n"))
    write_skill(root, "broken", "---\nname: broken\n---\n")
    code, out, _ = _run(capsys, "skills", "list", "--json", "--no-bundled", "--skills-dir", str(root))
    assert code == 1
    doc = json.loads(out)
    assert [r["origin"] for r in doc["roots"]] == ["cli"]
    [alpha] = doc["skills"]
    assert alpha["name"] == "alpha" and alpha["file_count"] == 1
    assert set(alpha["tokens"]) == {"description", "body", "method"}
    assert alpha["warnings"][0]["field"] == "user-invocable"
    assert alpha["stale"] is False and alpha["shadows"] == []
    [broken] = doc["invalid"]
    assert broken["name"] == "broken" and broken["errors"][0]["field"] == "description"


def test_list_includes_the_bundled_root_unless_told_not_to(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(capsys, "skills", "list", "--json")
    assert [r["origin"] for r in json.loads(out)["roots"]][-1] == "bundled"
    _, out, _ = _run(capsys, "skills", "list", "--json", "--no-bundled")
    assert "bundled" not in {r["origin"] for r in json.loads(out)["roots"]}


def test_validate_exit_0_when_all_valid(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write_skill(root, "a"), write_skill(root, "b")
    code, out, _ = _run(capsys, "skills", "validate", str(a), str(b))
    assert code == 0
    assert f"{a} (a): valid" in out and "tokens (estimate)" in out


def test_validate_exit_1_when_some_invalid(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = write_skill(root, "good"), write_skill(root, "bad", skill_md("bad--name"))
    code, out, _ = _run(capsys, "skills", "validate", str(good), str(bad))
    assert code == 1
    assert "INVALID" in out and "error: name:" in out


def test_validate_json_is_a_list_of_results(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_skill(root, "good", skill_md("good", extra="disable-model-invocation: true\n"))
    bad = write_skill(root, "bad", "---\nname: bad\n---\n")
    code, out, _ = _run(capsys, "skills", "validate", "--json", str(good), str(bad))
    assert code == 1
    results = json.loads(out)
    assert [(r["path"], r["name"], r["valid"]) for r in results] == [
        (str(good), "good", True),
        (str(bad), "bad", False),
    ]
    assert results[0]["warnings"][0]["field"] == "disable-model-invocation"
    assert results[1]["errors"] == [{"field": "description", "message": results[1]["errors"][0]["message"]}]


def test_validate_exit_2_for_a_path_that_does_not_exist(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_skill(root, "good")
    code, out, err = _run(capsys, "skills", "validate", str(good), str(root / "missing"))
    assert code == 2
    assert out == ""
    assert "does not exist" in err


def test_validate_exit_2_with_json_prints_one_error_document(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "skills", "validate", "--json", str(root / "missing"))
    assert code == 2
    assert json.loads(out)["error"]["type"] == "RefusedInput"


def test_validate_without_paths_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["skills", "validate"])
    assert caught.value.code == 2
    capsys.readouterr()


def test_skills_without_an_action_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "skills")
    assert code == 2 and "list" in out


def test_list_agent_dirs_reads_the_usual_agent_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_skill(tmp_path / ".claude" / "skills", "project-skill")
    write_skill(tmp_path / "home" / ".claude" / "skills", "user-skill")
    code, out, _ = _run(capsys, "skills", "list", "--json", "--no-bundled", "--agent-dirs")
    assert code == 0
    assert [s["name"] for s in json.loads(out)["skills"]] == ["project-skill", "user-skill"]
    _, out, _ = _run(capsys, "skills", "list", "--json", "--no-bundled")
    assert json.loads(out)["skills"] == []


def test_validate_a_folder_of_skills_validates_each(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_skill(root, "a")
    write_skill(root, "b")
    (root / "notes").mkdir()
    code, out, _ = _run(capsys, "skills", "validate", "--json", str(root))
    assert code == 0
    assert [r["name"] for r in json.loads(out)] == ["a", "b"]
