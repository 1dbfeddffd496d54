"""The teacher model's side of skill writing: the reply format, its checks and the dialogue that
asks again with the problems found.

The teacher's reply must hold the files between marker lines (``=== SKILL.md ===``,
``=== skill_meta.json ===``, ``=== end ===``). The output is checked before anything is written: the
SKILL.md by the catalog's own validator (spec-valid, no warnings: the body under the spec's token and
line budget), a description that says when to use the skill, and a skill_meta.json that parses, names
only known problems and has at least one fact case and one task case. A reply that fails any check is
saved whole (``<out>/.teacher-replies/``) and the error lists every problem and where the reply is.
``refine`` rewrites only the SKILL.md: the cases stay as they are, so the next eval measures the same
thing.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from kernel_skills.errors import EndpointError, RefusedInput, TeacherReplyError
from kernel_skills.evals.endpoint import ChatClient
from kernel_skills.evals.skill_meta import SKILL_META_FILE, SkillMeta, parse_skill_meta
from kernel_skills.evals.skill_text import parse_skill_text

SKILL_MARK, META_MARK, END_MARK = "=== SKILL.md ===", "=== skill_meta.json ===", "=== end ==="
REPLIES = ".teacher-replies"
GIVEN_REPLY = "a reply given with --reply"  # the teacher, when its reply came from elsewhere
MIN_BODY_CHARS = 200  # a skill must teach something
_WHEN = re.compile(r"\b(use (it |this )?(when|for|to)|when)\b", re.IGNORECASE)

FORMAT = f"""Reply with exactly these parts and nothing else:
{SKILL_MARK}
---
name: <lowercase-hyphenated-name, 1-64 chars>
description: <what the skill does AND when to use it ("Use when ..."), under 1024 characters>
---
<the body: concise, imperative instructions and short worked examples; under 500 lines>
{META_MARK}
{{"tests": [
  {{"input": "<a question whose answer the skill teaches>", "expected": {{"words": ["<exact term>"]}}}},
  {{"input": "<another question>", "expected": {{"words": ["<exact term>", "<another>"]}}}}
]}}
{END_MARK}
The tests are fact cases (expected: words / contains / matches), at least one. A task case for every \
problem the session benchmarked is added from the session itself; you may add more task cases \
(expected: compiles, kernel, abi, sass_has, no_spills, lint_clean, correct: PROBLEM with launch \
{{"block": [...], "grid": [...]}})."""

REPAIR_PROMPT = """Your reply is not a valid skill yet:
{problems}
Reply again with {parts} between the same marker lines, fixed, and nothing else."""


class GeneratedSkill(BaseModel):
    name: str
    path: str
    body_tokens: int
    cases: int
    fact_cases: int
    task_cases: int
    model: str
    traces: list[str] = Field(default_factory=list)
    condensed_chars: int = 0
    attempts: int = 1  # teacher replies it took
    cases_from_traces: int = 0  # task cases built from the traces' benchmarks
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def counting(cls, kinds: list[str], **fields: object) -> GeneratedSkill:
        """A skill whose cases are of ``kinds`` ("fact", "task", one per case)."""
        return cls(
            cases=len(kinds),
            fact_cases=kinds.count("fact"),
            task_cases=kinds.count("task"),
            **fields,  # type: ignore[arg-type]
        )


def reply_parts(reply: str) -> dict[str, str]:
    """Marker -> the text up to the next marker (any of them) or the end."""
    found = sorted((i, m) for m in (SKILL_MARK, META_MARK, END_MARK) if (i := reply.find(m)) >= 0)
    out = {}
    for n, (i, mark) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(reply)
        if mark != END_MARK:
            out[mark] = reply[i + len(mark) : end].strip("\n")
    return out


def strip_fence(text: str) -> str:
    text = text.strip()
    m = re.match(r"^```[\w-]*\n(.*)\n```$", text, re.DOTALL)
    return m.group(1) if m else text


def check_skill_md(skill_md: str, expect_name: str | None) -> tuple[str | None, list[str], int]:
    """(name, problems, body tokens) by the catalog's validator, in a scratch folder."""
    from kernel_skills.catalog import validate_path

    problems: list[str] = []
    try:
        parsed = parse_skill_text(skill_md)
    except Exception as exc:
        return None, [f"SKILL.md frontmatter: {exc}"], 0
    fm, body = parsed.frontmatter, parsed.body
    name = fm.get("name") if isinstance(fm.get("name"), str) else None
    if name is None:
        return None, ["SKILL.md frontmatter has no name"], 0
    if expect_name is not None and name != expect_name:
        problems.append(f"the name changed from {expect_name!r} to {name!r}")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) or len(name) > 64:
        return name, [*problems, f"name {name!r} is not 1-64 lowercase letters, digits and single hyphens"], 0
    if len(body.strip()) < MIN_BODY_CHARS:
        problems.append(f"the SKILL.md body is empty or nearly so (under {MIN_BODY_CHARS} characters)")
    description = fm.get("description")
    if isinstance(description, str) and not _WHEN.search(description):
        problems.append("the description does not say when to use the skill (e.g. 'Use when ...')")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        (folder / "SKILL.md").write_text(skill_md.rstrip() + "\n", encoding="utf-8")
        result = validate_path(folder)
    problems += [f"SKILL.md {i.field}: {i.message}" for i in result.errors + result.warnings]
    return name, problems, result.tokens.body if result.tokens else 0


def check_meta(text: str | None, added: list[dict] | None = None) -> tuple[SkillMeta | None, list[str]]:
    """The teacher's skill_meta.json with the ``added`` cases after its own (inputs not repeated)."""
    if text is None:
        return None, [f"no {META_MARK} part"]
    try:
        data = json.loads(strip_fence(text))
    except ValueError as exc:
        return None, [f"{SKILL_META_FILE} is not valid JSON: {exc}"]
    if added:
        cases = data.get("tests") if isinstance(data, dict) else data
        if isinstance(cases, list):
            inputs = {c.get("input") for c in cases if isinstance(c, dict)}
            cases += [c for c in added if c["input"] not in inputs]
    try:
        meta = parse_skill_meta(json.dumps(data), source=SKILL_META_FILE)
    except RefusedInput as exc:
        return None, [str(exc)]
    problems = []
    kinds = [c.kind for c in meta.tests]
    if "fact" not in kinds or "task" not in kinds:
        problems.append(f"skill_meta.json needs a fact case and a task case; it has {sorted(set(kinds))}")
    names = {p for c in meta.tests for p in c.expected.problems()}
    if names:
        from kernel_skills.bench import load_registry

        unknown = sorted(names - set(load_registry().names()))
        if unknown:
            problems.append(f"skill_meta.json names unknown problems {unknown}")
    return meta, problems


def save_raw(out_dir: Path, reply: str, label: str) -> Path:
    folder = Path(out_dir) / REPLIES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.txt"
    path.write_text(reply, encoding="utf-8")
    return path


def reject(out_dir: Path, reply: str, label: str, problems: list[str]) -> TeacherReplyError:
    raw = save_raw(out_dir, reply, label)
    listed = "\n".join(f"  - {p}" for p in problems)
    return TeacherReplyError(
        f"the teacher's reply is not a valid skill, nothing was written:\n{listed}\nraw reply saved in {raw}",
        raw,
    )


def ask_teacher(
    messages: list[dict],
    model: str,
    base_url: str | None,
    timeout_s: float,
    temperature: float | None,
    max_tokens: int | None = None,
) -> str:
    with ChatClient(base_url, timeout_s=timeout_s) as client:
        reply = client.chat(model, messages, temperature=temperature, max_tokens=max_tokens)
    return reply.text


def dialogue(
    prompt: str,
    check: Callable[[str], tuple[list[str], str]],
    *,
    attempts: int,
    out_dir: Path,
    label: str,
    ask: Callable[[list[dict]], str],
) -> int:
    """Ask until ``check(reply)`` finds no problem (it names the parts to send again); replies taken.

    Each rejected reply is saved and answered with its problems, up to ``attempts`` replies in all.
    """
    if not 1 <= attempts <= 10:
        raise RefusedInput(f"attempts must be between 1 and 10, got {attempts}")
    first: dict = {"role": "user", "content": prompt}
    messages: list[dict] = [first]
    saved: list[Path] = []
    problems: list[str] = []
    stopped = ""
    for attempt in range(1, attempts + 1):
        try:
            reply = ask(messages)
        except EndpointError as exc:
            if not saved:
                raise
            stopped = f"\nthe teacher's endpoint failed on attempt {attempt}, so it stopped there: {exc}"
            break
        problems, wanted = check(reply)
        if not problems:
            return attempt
        saved.append(save_raw(out_dir, reply, f"{label}-{attempt}"))
        listed = "\n".join(f"- {p}" for p in problems)
        # Only the last reply goes back: the conversation stays one prompt and two messages long,
        # within a small model's context however many attempts there are.
        messages = [
            first,
            {"role": "assistant", "content": reply},
            {"role": "user", "content": REPAIR_PROMPT.format(problems=listed, parts=wanted)},
        ]
    listed = "\n".join(f"  - {p}" for p in problems)
    raise TeacherReplyError(
        f"the teacher's reply is not a valid skill after {len(saved)} attempt(s), nothing was written:\n"
        f"{listed}\nraw replies saved in {', '.join(str(p) for p in saved)}{stopped}",
        saved[-1],
    )
