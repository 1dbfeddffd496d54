"""The agentic eval's report (field names are part of the JSON output; add fields freely, never rename)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kernel_skills.evals.assertions import AnswerScore
from kernel_skills.evals.endpoint import Usage
from kernel_skills.evals.tally import AssertionTally, Tally

AgentCondition = Literal["bare", "skill_in_context", "skill_and_tools"]
AGENT_CONDITIONS: tuple[AgentCondition, ...] = ("bare", "skill_in_context", "skill_and_tools")
AGENT_TOOLS = ("list_skills", "get_skill", "read_skill_file", "compile_kernel", "benchmark_kernel")
ToolCallNote = Literal["malformed_arguments", "unknown_tool", "loop", "server_error"]
ToolCalling = Literal["supported", "unsupported", "plain_text", "unused", "not_tried"]


class ToolCallRecord(BaseModel):
    turn: int
    name: str
    ok: bool
    error: str | None = None  # what the model was told
    note: ToolCallNote | None = None
    arguments_chars: int = 0
    from_text: bool = False  # written as JSON in the reply's text, run because of --text-tool-calls


class Episode(BaseModel):
    """One case, one condition, one run: the model's turns, its tool calls and the judged final kernel."""

    case: int
    condition: AgentCondition
    run: int
    score: AnswerScore
    final_answer: str  # the text the assertions judged
    final_from: Literal["answer", "last_source", "none"] = "answer"  # last_source: the answer had no code
    turns: int = 0
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    plain_text_tool_calls: int = 0  # replies that wrote a tool call as text (run with --text-tool-calls)
    ended: Literal["answered", "turn_limit", "error"] = "answered"
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    wall_s: float = 0.0
    trace: str | None = None  # the server's trace of this episode (skill_and_tools)


class ConditionTotals(Tally):
    """Over every episode of one condition (``Tally``'s counts are over its episodes)."""

    episodes: int
    turns_mean: float
    tool_calls: dict[str, int] = Field(default_factory=dict)  # by tool name
    tool_errors: int = 0  # calls the server (or the eval) answered with an error
    malformed_arguments: int = 0
    unknown_tools: int = 0
    loops: int = 0
    turn_limit: int = 0  # episodes that hit the turn limit
    usage: Usage = Field(default_factory=Usage)
    wall_s_total: float = 0.0
    wall_s_mean: float = 0.0
    assertions: dict[str, AssertionTally] = Field(default_factory=dict)


class AssertionMove(BaseModel):
    """One assertion kind whose pass count differs between conditions."""

    assertion: str
    passed: dict[str, int]
    judged: dict[str, int]


class AgentEvalReport(BaseModel):
    skill: str
    skill_dir: str
    model: str
    base_url: str
    runs: int
    max_turns: int
    cases: list[str]
    conditions: dict[str, ConditionTotals]
    lift_skill_in_context: float  # skill_in_context - bare pass rate
    lift_skill_and_tools: float  # skill_and_tools - bare pass rate
    moved: list[AssertionMove] = Field(default_factory=list)
    tool_calling: ToolCalling = "not_tried"
    tool_calling_detail: str = ""
    episodes: list[Episode] = Field(default_factory=list)
    runs_dir: str | None = None
    traces_dir: str | None = None
    text_tool_calls: bool = False  # tool calls written as JSON text were run as calls
    temperature: float | None = None
    max_tokens: int | None = None
    wall_time_s: float = 0.0
    notes: list[str] = Field(default_factory=list)
