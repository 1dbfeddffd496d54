"""Skills written by a teacher model: ``generate_skill`` from recorded traces, ``refine_skill`` from an
eval's failed cases; ``condense`` turns traces into the lessons the teacher reads."""

from kernel_skills.evals.skillgen.condense import Condensed, condense, render
from kernel_skills.evals.skillgen.generate import generate_prompt, generate_skill
from kernel_skills.evals.skillgen.refine import FailedCase, failed_cases, refine_skill
from kernel_skills.evals.skillgen.teacher import GeneratedSkill
from kernel_skills.evals.skillgen.trace_cases import trace_task_cases

__all__ = [
    "Condensed",
    "FailedCase",
    "GeneratedSkill",
    "condense",
    "failed_cases",
    "generate_prompt",
    "generate_skill",
    "refine_skill",
    "render",
    "trace_task_cases",
]
