"""Skills written by a teacher model: ``generate`` from traces, ``refine`` from an eval's failed cases.

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
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from kernel_skills.errors import EndpointError, RefusedInput, TeacherReplyError
from kernel_skills.evals.client import ChatClient
from kernel_skills.evals.condense import Condensed, condense, render
from kernel_skills.evals.skill_meta import SKILL_META_FILE, SkillMeta, parse_skill_meta
from kernel_skills.evals.trace_cases import trace_task_cases
from kernel_skills.traces import Trace

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

GENERATE_PROMPT = """You distil an expert's recorded session into an Agent Skill that teaches a smaller \
model to do the same task. The session was recorded by the kernel-skills MCP server; below it is \
condensed to its lessons: compile errors met and the source change that fixed each, lint findings \
fixed, benchmark changes between attempts, tool errors, and the best kernel.

Task: {task}

{condensed}

Write the skill: the rules and pitfalls this session shows (each error and its fix as a rule), the \
kernel pattern that worked, and how to check it with compile_kernel and benchmark_kernel.

{format}"""

REFINE_PROMPT = """You improve an Agent Skill from the cases its last eval failed. Keep what works; add or \
rewrite the instructions the failed answers show are missing or unclear. Do not mention the test cases.

Current SKILL.md:
{skill_md}

Failed cases (question, assertions missed, the start of the answer given with the skill):
{failures}

Reply with exactly:
{skill_mark}
<the whole new SKILL.md, frontmatter included, same name>
{end_mark}"""


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


def _parts(reply: str) -> dict[str, str]:
    """Marker -> the text up to the next marker (any of them) or the end."""
    found = sorted((i, m) for m in (SKILL_MARK, META_MARK, END_MARK) if (i := reply.find(m)) >= 0)
    out = {}
    for n, (i, mark) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(reply)
        if mark != END_MARK:
            out[mark] = reply[i + len(mark) : end].strip("\n")
    return out


def _strip_fence(text: str) -> str:
    text = text.strip()
    m = re.match(r"^```[\w-]*\n(.*)\n```$", text, re.DOTALL)
    return m.group(1) if m else text


def _check_skill_md(skill_md: str, expect_name: str | None) -> tuple[str | None, list[str], int]:
    """(name, problems, body tokens) by the catalog's validator, in a scratch folder."""
    from kernel_skills.catalog import validate_path
    from kernel_skills.catalog.frontmatter import load_frontmatter, split_frontmatter

    problems: list[str] = []
    try:
        front, body = split_frontmatter(skill_md)
        fm = load_frontmatter(front)
    except Exception as exc:
        return None, [f"SKILL.md frontmatter: {exc}"], 0
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


def _check_meta(text: str | None, added: list[dict] | None = None) -> tuple[SkillMeta | None, list[str]]:
    """The teacher's skill_meta.json with the ``added`` cases after its own (inputs not repeated)."""
    if text is None:
        return None, [f"no {META_MARK} part"]
    try:
        data = json.loads(_strip_fence(text))
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
        from kernel_skills.bench.registry import load_registry

        unknown = sorted(names - set(load_registry().names()))
        if unknown:
            problems.append(f"skill_meta.json names unknown problems {unknown}")
    return meta, problems


def _save_raw(out_dir: Path, reply: str, label: str) -> Path:
    folder = Path(out_dir) / REPLIES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{label}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.txt"
    path.write_text(reply, encoding="utf-8")
    return path


def _reject(out_dir: Path, reply: str, label: str, problems: list[str]) -> TeacherReplyError:
    raw = _save_raw(out_dir, reply, label)
    listed = "\n".join(f"  - {p}" for p in problems)
    return TeacherReplyError(
        f"the teacher's reply is not a valid skill, nothing was written:\n{listed}\nraw reply saved in {raw}",
        raw,
    )


def _ask(
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


def generate_prompt(task: str, condensed: Condensed) -> str:
    return GENERATE_PROMPT.format(task=task.strip(), condensed=render(condensed), format=FORMAT)


def _dialogue(
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
        saved.append(_save_raw(out_dir, reply, f"{label}-{attempt}"))
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


def generate_skill(
    task: str,
    traces: list[Trace],
    out_dir: Path,
    *,
    model: str | None,
    base_url: str | None = None,
    timeout_s: float = 600.0,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    force: bool = False,
    attempts: int = 3,
    reply: str | None = None,
) -> GeneratedSkill:
    """Ask the teacher for a skill distilled from ``traces``; write ``out_dir/<name>/`` only when valid.

    ``reply``: the teacher's first reply, got elsewhere (``generate_prompt`` is what it answers);
    problems in it go to ``model`` when one is given, else it is the only attempt.

    A part that was valid once (the SKILL.md or the skill_meta.json) is kept and not asked for again.
    Task cases for the problems the traces benchmarked come from the traces (``trace_cases``).
    """
    if not task.strip():
        raise RefusedInput("the task is empty: say what the skill is for, e.g. 'write an RMSNorm kernel'")
    if not traces:
        raise RefusedInput("give at least one trace with --from (see `kernel-skills traces list`)")
    condensed = condense(traces)
    added = trace_task_cases(traces)
    good: dict[str, object] = {}  # SKILL_MARK -> (text, name, tokens); META_MARK -> SkillMeta

    def check(reply: str) -> tuple[list[str], str]:
        parts, problems = _parts(reply), []
        if SKILL_MARK not in good:
            skill_md = parts.get(SKILL_MARK)
            if skill_md is None:
                problems.append(f"no {SKILL_MARK} part")
            else:
                skill_md = _strip_fence(skill_md)
                name, md_problems, tokens = _check_skill_md(skill_md, None)
                if not md_problems and name is not None:
                    target = Path(out_dir) / name
                    if target.exists() and not force:  # no reply can fix this
                        raise _reject(
                            out_dir, reply, "generate", [f"{target} exists (pass --force to replace it)"]
                        )
                    good[SKILL_MARK] = (skill_md, name, tokens)
                problems += md_problems
        if META_MARK not in good:
            meta, meta_problems = _check_meta(parts.get(META_MARK), added)
            if not meta_problems and meta is not None:
                good[META_MARK] = meta
            problems += meta_problems
        wanted = " and ".join(f"the {m.strip('= ')} part" for m in (SKILL_MARK, META_MARK) if m not in good)
        return problems, wanted

    def ask(messages: list[dict]) -> str:
        if reply is not None and len(messages) == 1:
            return reply
        if model is None:
            raise RefusedInput("no teacher model to ask (give model=, or a reply)")
        return _ask(messages, model, base_url, timeout_s, temperature, max_tokens)

    taken = _dialogue(
        generate_prompt(task, condensed),
        check,
        attempts=attempts if model is not None else 1,
        out_dir=out_dir,
        label="generate",
        ask=ask,
    )
    skill_md, name, tokens = good[SKILL_MARK]  # type: ignore[misc]
    meta: SkillMeta = good[META_MARK]  # type: ignore[assignment]
    target = Path(out_dir) / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "SKILL.md").write_text(skill_md.rstrip() + "\n", encoding="utf-8")
    meta.metadata.setdefault("generated_from", [t.id for t in traces])
    meta.metadata.setdefault("teacher_model", model or GIVEN_REPLY)
    (target / SKILL_META_FILE).write_text(
        json.dumps(meta.model_dump(mode="json", exclude_defaults=True), indent=2) + "\n", encoding="utf-8"
    )
    kinds = [c.kind for c in meta.tests]
    added_inputs = {a["input"] for a in added}
    return GeneratedSkill(
        name=name,
        path=str(target),
        body_tokens=tokens,
        cases=len(kinds),
        fact_cases=kinds.count("fact"),
        task_cases=kinds.count("task"),
        model=model or GIVEN_REPLY,
        traces=[t.id for t in traces],
        condensed_chars=len(render(condensed)),
        attempts=taken,
        cases_from_traces=sum(1 for c in meta.tests if c.input in added_inputs),
        warnings=[f"the teacher needed {taken} replies (rejected ones in {REPLIES}/)"] if taken > 1 else [],
    )


# --- refine ------------------------------------------------------------------------------------


class FailedCase(BaseModel):
    input: str
    missed: list[str]
    answer: str


def failed_cases(report_path: Path) -> list[FailedCase]:
    """The cases a skill failed, from an eval report (``eval --json``, a batch summary, ``eval --agent``)."""
    try:
        data = json.loads(Path(report_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RefusedInput(f"cannot read the eval report {report_path}: {exc}") from exc
    if not isinstance(data, dict) or not ({"cases", "models", "episodes"} & set(data)):
        raise RefusedInput(
            f"{report_path} is not an eval report (from `kernel-skills eval --json` or --agent)"
        )
    reports = data.get("models", [data])
    out: list[FailedCase] = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        if "episodes" in report:  # agentic
            cases = report.get("cases") or []
            for e in report["episodes"]:
                if e.get("condition") != "bare" and not e["score"]["passed"] and e["case"] < len(cases):
                    out.append(
                        FailedCase(
                            input=cases[e["case"]], missed=e["score"]["missed"], answer=e["final_answer"]
                        )
                    )
            continue
        for case in report.get("cases") or []:
            for run in (case.get("with_skill") or {}).get("runs") or []:
                if not run["score"]["passed"]:
                    out.append(
                        FailedCase(input=case["input"], missed=run["score"]["missed"], answer=run["answer"])
                    )
    unique: dict[str, FailedCase] = {}
    for f in out:
        unique.setdefault(f.input, f)
    return list(unique.values())


def refine_skill(
    skill_dir: Path,
    report_path: Path,
    *,
    model: str,
    base_url: str | None = None,
    timeout_s: float = 600.0,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    attempts: int = 3,
) -> GeneratedSkill:
    """Rewrite ``skill_dir``'s SKILL.md from the cases it failed; the old one is kept as SKILL.md.prev."""
    skill_dir = Path(skill_dir)
    current = skill_dir / "SKILL.md"
    if not current.is_file():
        raise RefusedInput(f"{skill_dir} is not a skill folder: it has no SKILL.md")
    text = current.read_text(encoding="utf-8")
    failures = failed_cases(report_path)
    if not failures:
        raise RefusedInput(f"{report_path} has no failed case with the skill: nothing to refine from")
    old_name, _, _ = _check_skill_md(text, None)
    listed = "\n\n".join(
        f"- Q: {f.input}\n  missed: {', '.join(f.missed) or '-'}\n  answer: {f.answer[:600]}"
        for f in failures[:20]
    )
    prompt = REFINE_PROMPT.format(skill_md=text, failures=listed, skill_mark=SKILL_MARK, end_mark=END_MARK)
    good: dict[str, tuple[str, int]] = {}

    def check(reply: str) -> tuple[list[str], str]:
        skill_md = _parts(reply).get(SKILL_MARK)
        if skill_md is None:
            return [f"no {SKILL_MARK} part"], "the whole new SKILL.md"
        skill_md = _strip_fence(skill_md)
        name, problems, tokens = _check_skill_md(skill_md, old_name)
        if not problems and name is not None:
            good[name] = (skill_md, tokens)
        return problems, "the whole new SKILL.md"

    taken = _dialogue(
        prompt,
        check,
        attempts=attempts,
        out_dir=skill_dir.parent,
        label="refine",
        ask=lambda messages: _ask(messages, model, base_url, timeout_s, temperature, max_tokens),
    )
    ((name, (skill_md, tokens)),) = good.items()
    shutil.copyfile(current, skill_dir / "SKILL.md.prev")
    current.write_text(skill_md.rstrip() + "\n", encoding="utf-8")
    meta_file = skill_dir / SKILL_META_FILE
    kinds = (
        [c.kind for c in parse_skill_meta(meta_file.read_text("utf-8")).tests] if meta_file.is_file() else []
    )
    return GeneratedSkill(
        name=name,
        path=str(skill_dir),
        body_tokens=tokens,
        cases=len(kinds),
        fact_cases=kinds.count("fact"),
        task_cases=kinds.count("task"),
        model=model,
        attempts=taken,
        warnings=[f"refined from {len(failures)} failed case(s); the previous SKILL.md is SKILL.md.prev"],
    )
