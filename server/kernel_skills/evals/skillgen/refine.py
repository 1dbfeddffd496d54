"""A skill's SKILL.md rewritten by a teacher model from the cases its last eval failed
(``refine_skill``). Only the SKILL.md changes: the cases stay as they are, so the next eval measures
the same thing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pydantic import BaseModel

from kernel_skills.errors import RefusedInput
from kernel_skills.evals.skill_meta import SKILL_META_FILE, parse_skill_meta
from kernel_skills.evals.skillgen.teacher import (
    END_MARK,
    SKILL_MARK,
    GeneratedSkill,
    ask_teacher,
    check_skill_md,
    dialogue,
    reply_parts,
    strip_fence,
)

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


def _refine_prompt(text: str, failures: list[FailedCase]) -> str:
    listed = "\n\n".join(
        f"- Q: {f.input}\n  missed: {', '.join(f.missed) or '-'}\n  answer: {f.answer[:600]}"
        for f in failures[:20]
    )
    return REFINE_PROMPT.format(skill_md=text, failures=listed, skill_mark=SKILL_MARK, end_mark=END_MARK)


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
    old_name, _, _ = check_skill_md(text, None)
    good: dict[str, tuple[str, int]] = {}

    def check(reply: str) -> tuple[list[str], str]:
        skill_md = reply_parts(reply).get(SKILL_MARK)
        if skill_md is None:
            return [f"no {SKILL_MARK} part"], "the whole new SKILL.md"
        skill_md = strip_fence(skill_md)
        name, problems, tokens = check_skill_md(skill_md, old_name)
        if not problems and name is not None:
            good[name] = (skill_md, tokens)
        return problems, "the whole new SKILL.md"

    taken = dialogue(
        _refine_prompt(text, failures),
        check,
        attempts=attempts,
        out_dir=skill_dir.parent,
        label="refine",
        ask=lambda messages: ask_teacher(messages, model, base_url, timeout_s, temperature, max_tokens),
    )
    ((name, (skill_md, tokens)),) = good.items()
    shutil.copyfile(current, skill_dir / "SKILL.md.prev")
    current.write_text(skill_md.rstrip() + "\n", encoding="utf-8")
    meta_file = skill_dir / SKILL_META_FILE
    kinds = (
        [c.kind for c in parse_skill_meta(meta_file.read_text("utf-8")).tests] if meta_file.is_file() else []
    )
    return GeneratedSkill.counting(
        kinds,
        name=name,
        path=str(skill_dir),
        body_tokens=tokens,
        model=model,
        attempts=taken,
        warnings=[f"refined from {len(failures)} failed case(s); the previous SKILL.md is SKILL.md.prev"],
    )
