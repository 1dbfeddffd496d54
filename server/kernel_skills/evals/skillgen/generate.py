"""A skill distilled by a teacher model from recorded traces (``generate_skill``).

Task cases for the problems the traces benchmarked come from the traces themselves
(``trace_cases``); the teacher writes the SKILL.md and the fact cases. See ``teacher`` for the
reply format and its checks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from pydantic import BaseModel

from kernel_skills.errors import RefusedInput
from kernel_skills.evals.skill_meta import SKILL_META_FILE, SkillMeta
from kernel_skills.evals.skillgen.condense import Condensed, condense, render
from kernel_skills.evals.skillgen.teacher import (
    FORMAT,
    GIVEN_REPLY,
    META_MARK,
    REPLIES,
    SKILL_MARK,
    GeneratedSkill,
    ask_teacher,
    check_meta,
    check_skill_md,
    dialogue,
    reject,
    reply_parts,
    strip_fence,
)
from kernel_skills.evals.skillgen.trace_cases import trace_task_cases
from kernel_skills.traces import Trace

GENERATE_PROMPT = """You distil an expert's recorded session into an Agent Skill that teaches a smaller \
model to do the same task. The session was recorded by the kernel-skills MCP server; below it is \
condensed to its lessons: compile errors met and the source change that fixed each, lint findings \
fixed, benchmark changes between attempts, tool errors, and the best kernel.

Task: {task}

{condensed}

Write the skill: the rules and pitfalls this session shows (each error and its fix as a rule), the \
kernel pattern that worked, and how to check it with compile_kernel and benchmark_kernel.

{format}"""


class TeacherSettings(BaseModel):
    """How to reach the teacher model; ``model`` None: only a reply given with ``--reply``."""

    model: str | None
    base_url: str | None = None
    timeout_s: float = 600.0
    temperature: float | None = 0.0
    max_tokens: int | None = None

    def ask(self, messages: list[dict]) -> str:
        if self.model is None:
            raise RefusedInput("no teacher model to ask (give model=, or a reply)")
        return ask_teacher(
            messages, self.model, self.base_url, self.timeout_s, self.temperature, self.max_tokens
        )


def generate_prompt(task: str, condensed: Condensed) -> str:
    return GENERATE_PROMPT.format(task=task.strip(), condensed=render(condensed), format=FORMAT)


class _GenerateCheck:
    """Checks a teacher's reply, keeping each part (the SKILL.md, the skill_meta.json) once it is valid."""

    def __init__(self, out_dir: Path, added: list[dict], force: bool) -> None:
        self.out_dir, self.added, self.force = Path(out_dir), added, force
        self.skill: tuple[str, str, int] | None = None  # text, name, body tokens
        self.meta: SkillMeta | None = None

    def __call__(self, reply: str) -> tuple[list[str], str]:
        parts, problems = reply_parts(reply), []
        if self.skill is None:
            problems += self._skill_md(reply, parts.get(SKILL_MARK))
        if self.meta is None:
            meta, meta_problems = check_meta(parts.get(META_MARK), self.added)
            if not meta_problems and meta is not None:
                self.meta = meta
            problems += meta_problems
        missing = [m for m, part in ((SKILL_MARK, self.skill), (META_MARK, self.meta)) if part is None]
        return problems, " and ".join(f"the {m.strip('= ')} part" for m in missing)

    def _skill_md(self, reply: str, skill_md: str | None) -> list[str]:
        if skill_md is None:
            return [f"no {SKILL_MARK} part"]
        skill_md = strip_fence(skill_md)
        name, problems, tokens = check_skill_md(skill_md, None)
        if not problems and name is not None:
            target = self.out_dir / name
            if target.exists() and not self.force:  # no reply can fix this
                raise reject(
                    self.out_dir, reply, "generate", [f"{target} exists (pass --force to replace it)"]
                )
            self.skill = (skill_md, name, tokens)
        return problems


def _write_skill(target: Path, skill_md: str, meta: SkillMeta) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "SKILL.md").write_text(skill_md.rstrip() + "\n", encoding="utf-8")
    (target / SKILL_META_FILE).write_text(
        json.dumps(meta.model_dump(mode="json", exclude_defaults=True), indent=2) + "\n", encoding="utf-8"
    )


def _check_inputs(task: str, traces: list[Trace]) -> None:
    if not task.strip():
        raise RefusedInput("the task is empty: say what the skill is for, e.g. 'write an RMSNorm kernel'")
    if not traces:
        raise RefusedInput("give at least one trace with --from (see `kernel-skills traces list`)")


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
    _check_inputs(task, traces)
    teacher = TeacherSettings(
        model=model, base_url=base_url, timeout_s=timeout_s, temperature=temperature, max_tokens=max_tokens
    )
    condensed = condense(traces)
    added = trace_task_cases(traces)
    check = _GenerateCheck(out_dir, added, force)

    def ask(messages: list[dict]) -> str:
        return reply if reply is not None and len(messages) == 1 else teacher.ask(messages)

    taken = dialogue(
        generate_prompt(task, condensed),
        check,
        attempts=attempts if model is not None else 1,
        out_dir=out_dir,
        label="generate",
        ask=ask,
    )
    skill_md, name, tokens = check.skill  # type: ignore[misc]  # both parts are valid once dialogue returns
    meta: SkillMeta = check.meta  # type: ignore[assignment]
    meta.metadata.setdefault("generated_from", [t.id for t in traces])
    meta.metadata.setdefault("teacher_model", model or GIVEN_REPLY)
    target = Path(out_dir) / name
    _write_skill(target, skill_md, meta)
    added_inputs = {a["input"] for a in added}
    return GeneratedSkill.counting(
        [c.kind for c in meta.tests],
        name=name,
        path=str(target),
        body_tokens=tokens,
        model=model or GIVEN_REPLY,
        traces=[t.id for t in traces],
        condensed_chars=len(render(condensed)),
        attempts=taken,
        cases_from_traces=sum(1 for c in meta.tests if c.input in added_inputs),
        warnings=[f"the teacher needed {taken} replies (rejected ones in {REPLIES}/)"] if taken > 1 else [],
    )
