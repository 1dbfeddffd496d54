"""Table-driven agreement with the reference validator `skills-ref` (PyPI, command `agentskills`).

Every case runs both validators on the same real folder. Where we differ, we differ on purpose
and the case says why (docs/skills.md repeats these reasons):
- unknown frontmatter keys: a warning for us (real skills carry client keys such as Claude Code's
  `disable-model-invocation`), an error for skills-ref;
- non-ASCII letters in names: refused by us (names are `skill://` URI segments and folder names,
  where Unicode normalisation and look-alike letters make different names look equal), accepted
  by skills-ref;
- an empty `compatibility`: the spec says 1-500 characters if provided; skills-ref only checks
  the upper bound;
- `skill.md` in lower case: skills-ref accepts it; SEP-2640 addresses `<skill>/SKILL.md`, so we
  require the exact name;
- `metadata` values that are lists/maps and `allowed-tools` given as a list: the spec says
  string -> string and a space-separated string; skills-ref does not check these;
- YAML flow style (`{a: b}`): standard YAML, accepted by us; strictyaml refuses it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import skills_ref

from kernel_skills.catalog import validate_path

from .helpers import skill_md


@dataclass(frozen=True)
class Case:
    id: str
    folder: str
    text: str
    ours: bool  # valid for us
    ref: bool  # valid for skills-ref
    why: str = ""  # required when ours != ref
    file_name: str = "SKILL.md"


FULL = (
    "license: Apache-2.0\ncompatibility: Needs Python 3.11 and network access\n"
    "metadata:\n  author: example\n  version: '1.0'\nallowed-tools: Bash(git:*) Read\n"
)

CASES = [
    Case("minimal", "pdf-tools", skill_md("pdf-tools"), True, True),
    Case("all-optional-fields", "pdf-tools", skill_md("pdf-tools", extra=FULL), True, True),
    Case("digits-only-name", "123", skill_md("123"), True, True),
    Case("name-64-chars", "a" * 64, skill_md("a" * 64), True, True),
    Case("name-65-chars", "a" * 65, skill_md("a" * 65), False, False),
    Case("uppercase-name", "Pdf-Tools", skill_md("Pdf-Tools"), False, False),
    Case("leading-hyphen", "-pdf", skill_md("-pdf"), False, False),
    Case("trailing-hyphen", "pdf-", skill_md("pdf-"), False, False),
    Case("double-hyphen", "pdf--tools", skill_md("pdf--tools"), False, False),
    Case("underscore", "pdf_tools", skill_md("pdf_tools"), False, False),
    Case("name-not-folder", "pdf-tools", skill_md("other-name"), False, False),
    Case("missing-name", "pdf-tools", "---\ndescription: d\n---\nbody\n", False, False),
    Case("missing-description", "pdf-tools", "---\nname: pdf-tools\n---\nbody\n", False, False),
    Case("empty-description", "pdf-tools", skill_md("pdf-tools", '""'), False, False),
    Case("description-1024", "pdf-tools", skill_md("pdf-tools", "d" * 1024), True, True),
    Case("description-1025", "pdf-tools", skill_md("pdf-tools", "d" * 1025), False, False),
    Case("description-yes-is-text", "pdf-tools", skill_md("pdf-tools", "yes"), True, True),
    Case(
        "compatibility-500",
        "pdf-tools",
        skill_md("pdf-tools", extra=f"compatibility: {'c' * 500}\n"),
        True,
        True,
    ),
    Case(
        "compatibility-501",
        "pdf-tools",
        skill_md("pdf-tools", extra=f"compatibility: {'c' * 501}\n"),
        False,
        False,
    ),
    Case(
        "metadata-number-is-text",
        "pdf-tools",
        skill_md("pdf-tools", extra="metadata:\n  v: 1.0\n"),
        True,
        True,
    ),
    Case("no-frontmatter", "pdf-tools", "# Just markdown\n", False, False),
    Case("unclosed-frontmatter", "pdf-tools", "---\nname: pdf-tools\ndescription: d\n", False, False),
    Case("broken-yaml", "pdf-tools", "---\nname: [pdf\ndescription: d\n---\n", False, False),
    Case(
        "duplicate-key",
        "pdf-tools",
        "---\nname: pdf-tools\nname: pdf-tools\ndescription: d\n---\n",
        False,
        False,
    ),
    Case("frontmatter-not-a-map", "pdf-tools", "---\n- a\n---\n", False, False),
    Case(
        "unknown-keys",
        "pdf-tools",
        skill_md("pdf-tools", extra="disable-model-invocation: true\nuser-invocable: false\n"),
        True,
        False,
        "unknown keys are warnings for us; skills-ref rejects them",
    ),
    Case(
        "non-ascii-name",
        "café",
        skill_md("café"),
        False,
        True,
        "names are ASCII a-z/0-9/- for us (URI segments); skills-ref accepts Unicode letters",
    ),
    Case(
        "cjk-name",
        "技能",
        skill_md("技能"),
        False,
        True,
        "names are ASCII a-z/0-9/- for us (URI segments); skills-ref accepts Unicode letters",
    ),
    Case(
        "empty-compatibility",
        "pdf-tools",
        skill_md("pdf-tools", extra='compatibility: ""\n'),
        False,
        True,
        "the spec says 1-500 characters if provided; skills-ref checks only the maximum",
    ),
    Case(
        "lowercase-skill-md",
        "pdf-tools",
        skill_md("pdf-tools"),
        False,
        True,
        "SEP-2640 addresses <skill>/SKILL.md; skills-ref also accepts skill.md",
        file_name="skill.md",
    ),
    Case(
        "nested-metadata",
        "pdf-tools",
        skill_md("pdf-tools", extra="metadata:\n  deps:\n    - numpy\n"),
        False,
        True,
        "the spec says metadata maps strings to strings; skills-ref stringifies anything",
    ),
    Case(
        "allowed-tools-list",
        "pdf-tools",
        skill_md("pdf-tools", extra="allowed-tools:\n  - Bash\n"),
        False,
        True,
        "the spec says a space-separated string; skills-ref does not check allowed-tools",
    ),
    Case(
        "flow-style-metadata",
        "pdf-tools",
        skill_md("pdf-tools", extra="metadata: {author: me}\n"),
        True,
        False,
        "flow style is standard YAML; strictyaml (used by skills-ref) refuses it",
    ),
]


def _write(tmp_path: Path, case: Case) -> Path:
    folder = tmp_path / case.folder
    folder.mkdir()
    (folder / case.file_name).write_text(case.text, encoding="utf-8")
    return folder


def test_every_difference_is_explained() -> None:
    for case in CASES:
        assert (case.ours == case.ref) == (not case.why), case.id


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_we_agree_with_skills_ref_or_differ_on_purpose(tmp_path: Path, case: Case) -> None:
    folder = _write(tmp_path, case)
    ref_errors = skills_ref.validate(folder)
    ours = validate_path(folder)
    assert (not ref_errors) is case.ref, f"skills-ref: {ref_errors}"
    assert ours.valid is case.ours, f"ours: {ours.errors}"


@pytest.mark.skipif(
    shutil.which("agentskills", path=str(Path(sys.executable).parent)) is None, reason="no CLI"
)
def test_the_agentskills_command_agrees_with_the_library_we_compare_against(tmp_path: Path) -> None:
    """The table uses skills_ref.validate(); the `agentskills validate` command gives the same verdicts."""
    command = str(Path(sys.executable).parent / "agentskills")
    for case in (CASES[0], CASES[5]):
        (tmp_path / case.id).mkdir()
        folder = _write(tmp_path / case.id, case)
        done = subprocess.run([command, "validate", str(folder)], capture_output=True, text=True, timeout=60)
        assert (done.returncode == 0) is case.ref, done.stderr
