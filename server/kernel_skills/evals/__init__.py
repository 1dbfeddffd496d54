"""Skill evaluation: skill_meta.json test cases, lift with vs without a skill. No MCP imports."""

from kernel_skills.evals.client import ChatClient, ChatReply, EndpointError, Usage
from kernel_skills.evals.lift import read_skill, run_eval, system_prompt
from kernel_skills.evals.models import CaseReport, ConditionResult, EvalReport, RunResult, Totals
from kernel_skills.evals.scoring import AnswerScore, score_answer
from kernel_skills.evals.skill_meta import Expected, SkillMeta, TestCase, load_skill_meta, parse_skill_meta

__all__ = [
    "AnswerScore",
    "CaseReport",
    "ChatClient",
    "ChatReply",
    "ConditionResult",
    "EndpointError",
    "EvalReport",
    "Expected",
    "RunResult",
    "SkillMeta",
    "TestCase",
    "Totals",
    "Usage",
    "load_skill_meta",
    "parse_skill_meta",
    "read_skill",
    "run_eval",
    "score_answer",
    "system_prompt",
]
