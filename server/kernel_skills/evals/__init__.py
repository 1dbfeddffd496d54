"""Skill evaluation, no MCP imports. Three sub-packages with one job each: ``lift`` (a skill's lift,
with vs without it), ``agent`` (agentic episodes over the MCP tools) and ``skillgen`` (skills written
from traces); over shared modules: ``endpoint`` (the chat client), ``skill_text`` (a skill as a prompt),
``skill_meta`` / ``assertions`` / ``code_checks`` (the cases and their judging), ``tally`` (the counts
every report gives) and ``fanout`` (the runner both evals fan out with).

Other packages import the names below, or a sub-package's own names from the sub-package.
"""

from kernel_skills.errors import EndpointError
from kernel_skills.evals.agent import (
    AGENT_TOOLS,
    AgentEvalReport,
    Episode,
    ToolboxFactory,
    ToolOutcome,
    ToolSpec,
    run_agent_eval,
)
from kernel_skills.evals.assertions import (
    AnswerScore,
    AssertionOutcome,
    has_token,
    judge_answer,
    score_answer,
)
from kernel_skills.evals.code_checks import extract_code
from kernel_skills.evals.endpoint import ChatClient, ChatReply, Usage
from kernel_skills.evals.lift import (
    BatchReport,
    CaseReport,
    ConditionResult,
    EvalProgress,
    EvalReport,
    KindReport,
    RunResult,
    Totals,
    rejudge_runs,
    render_html,
    run_batch,
    run_eval,
)
from kernel_skills.evals.skill_meta import Expected, SkillMeta, TestCase, load_skill_meta, parse_skill_meta
from kernel_skills.evals.skill_text import read_skill, system_prompt
from kernel_skills.evals.skillgen import condense, generate_prompt, generate_skill, refine_skill

__all__ = [
    "AGENT_TOOLS",
    "AgentEvalReport",
    "AnswerScore",
    "AssertionOutcome",
    "BatchReport",
    "CaseReport",
    "ChatClient",
    "ChatReply",
    "ConditionResult",
    "EndpointError",
    "Episode",
    "EvalProgress",
    "EvalReport",
    "Expected",
    "KindReport",
    "RunResult",
    "SkillMeta",
    "TestCase",
    "ToolOutcome",
    "ToolSpec",
    "ToolboxFactory",
    "Totals",
    "Usage",
    "condense",
    "extract_code",
    "generate_prompt",
    "generate_skill",
    "has_token",
    "judge_answer",
    "load_skill_meta",
    "parse_skill_meta",
    "read_skill",
    "refine_skill",
    "rejudge_runs",
    "render_html",
    "run_agent_eval",
    "run_batch",
    "run_eval",
    "score_answer",
    "system_prompt",
]
