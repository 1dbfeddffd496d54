"""The agentic eval: each case worked as an agent whose tools are this server's MCP tools, under three
conditions (bare, the skill in context, the skill and the tools); see ``run_agent_eval``."""

from kernel_skills.evals.agent.client import AgentReply, ToolCall, ToolChatClient
from kernel_skills.evals.agent.episode import DEFAULT_MAX_TURNS, parse_text_calls
from kernel_skills.evals.agent.models import (
    AGENT_CONDITIONS,
    AGENT_TOOLS,
    AgentCondition,
    AgentEvalReport,
    AssertionMove,
    ConditionTotals,
    Episode,
    ToolCallRecord,
)
from kernel_skills.evals.agent.run import AgentOptions, run_agent_eval
from kernel_skills.evals.agent.toolbox import Toolbox, ToolboxFactory, ToolOutcome, ToolSpec

__all__ = [
    "AGENT_CONDITIONS",
    "AGENT_TOOLS",
    "DEFAULT_MAX_TURNS",
    "AgentCondition",
    "AgentEvalReport",
    "AgentOptions",
    "AgentReply",
    "AssertionMove",
    "ConditionTotals",
    "Episode",
    "ToolCall",
    "ToolCallRecord",
    "ToolChatClient",
    "ToolOutcome",
    "ToolSpec",
    "Toolbox",
    "ToolboxFactory",
    "parse_text_calls",
    "run_agent_eval",
]
