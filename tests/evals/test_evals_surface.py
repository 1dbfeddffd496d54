"""The evals package's public names and the CLI entry are pinned."""

from __future__ import annotations

import subprocess
import sys

import kernel_skills.evals as evals


def test_public_names_are_pinned() -> None:
    assert sorted(evals.__all__) == [
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
    assert all(hasattr(evals, name) for name in evals.__all__)


def test_eval_command_is_registered_with_its_documented_options() -> None:
    argv = [sys.executable, "-m", "kernel_skills.cli", "eval", "--help"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    for option in ("SKILL_DIR", "--model", "--base-url", "--runs", "--json", "not inlined"):
        assert option in out


def test_missing_model_is_a_usage_error_exit_2(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kernel_skills.cli", "eval", str(tmp_path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "--model" in proc.stderr
