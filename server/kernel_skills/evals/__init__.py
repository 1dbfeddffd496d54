"""Skill evaluation: skill_meta.json test cases, lift with vs without a skill. No MCP imports."""

from kernel_skills.errors import EndpointError
from kernel_skills.evals.assertions import AnswerScore, AssertionOutcome, judge_answer, score_answer
from kernel_skills.evals.client import ChatClient, ChatReply, Usage
from kernel_skills.evals.lift import (
    EvalProgress,
    read_skill,
    rejudge_runs,
    run_batch,
    run_eval,
    system_prompt,
)
from kernel_skills.evals.models import (
    BatchReport,
    CaseReport,
    ConditionResult,
    EvalReport,
    KindReport,
    RunResult,
    Totals,
)
from kernel_skills.evals.skill_meta import Expected, SkillMeta, TestCase, load_skill_meta, parse_skill_meta

__all__ = [
    "AnswerScore",
    "AssertionOutcome",
    "BatchReport",
    "CaseReport",
    "ChatClient",
    "ChatReply",
    "ConditionResult",
    "EndpointError",
    "EvalProgress",
    "EvalReport",
    "Expected",
    "KindReport",
    "RunResult",
    "SkillMeta",
    "TestCase",
    "Totals",
    "Usage",
    "judge_answer",
    "load_skill_meta",
    "parse_skill_meta",
    "read_skill",
    "rejudge_runs",
    "run_batch",
    "run_eval",
    "score_answer",
    "system_prompt",
]
