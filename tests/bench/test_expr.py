"""The launch-expression evaluator: what it accepts, and hostile input it refuses cleanly."""

from __future__ import annotations

import pytest

from kernel_skills.bench.expr import MAX_DEPTH, MAX_LENGTH, parse_expr
from kernel_skills.errors import RefusedInput

SIZES = {"rows": 129, "dim": 2048, "batch": 2, "heads": 24}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4", 4),
        ("rows", 129),
        ("ceil_div(rows, 4)", 33),
        ("rows // 4", 32),
        ("batch * heads", 48),
        ("(dim // 8 + 31) // 32 * 32", 256),
        ("min(rows, 64) + max(rows, 64)", 193),
        ("-rows + 200", 71),
        ("2 * dim * 2", 8192),
        ("ceil_div(ceil_div(rows, 2), 2)", 33),
        ("  rows\t- 1 ", 128),
    ],
)
def test_expressions_evaluate_to_python_integer_semantics(text: str, value: int) -> None:
    assert parse_expr(text, set(SIZES)).evaluate(SIZES) == value


def test_an_integer_is_accepted_as_a_literal() -> None:
    assert parse_expr(128).evaluate({}) == 128


def test_names_used_are_recorded() -> None:
    assert parse_expr("ceil_div(rows, 4) * batch", set(SIZES)).names == {"rows", "batch"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rows.__class__", "unexpected character '.'"),
        ("__import__(rows, dim)", "unknown function '__import__'"),
        ("__import__('os')", "unexpected character"),
        ("lambda: 1", "unexpected character ':'"),
        ("lambda + 1", "unknown name 'lambda'"),
        ("rowz * 2", "unknown name 'rowz'"),
        ("rows / 4", "use // for integer division"),
        ("rows ** 2", "'**'"),
        ("rows % 4", "unexpected character '%'"),
        ("ceil_div(rows)", "expected ',' between the two arguments"),
        ("min", "is a function"),
        ("(rows", "expected ')'"),
        ("rows)", "unexpected ')'"),
        ("", "it is empty"),
        ("rows +", "ends where a number"),
        ("rows // 0", "division by zero"),
        ("ceil_div(rows, 0)", "division by zero"),
        ("1234567890123", "more than 12 digits"),
        ("999999999999 * 999999999999 * 999999999999", "exceeds"),
        ("rows\n+1", "unexpected character '\\n'"),
        ("٣", "unexpected character"),
        ("True", "unknown name 'True'"),
    ],
)
def test_hostile_or_malformed_expressions_are_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(RefusedInput) as info:
        parse_expr(text, set(SIZES)).evaluate(SIZES)
    message = str(info.value)
    assert fragment in message
    assert "Accepted:" in message


def test_deep_nesting_is_refused_before_recursing() -> None:
    text = "(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(RefusedInput, match="nesting deeper"):
        parse_expr(text)
    with pytest.raises(RefusedInput, match="nesting deeper"):
        parse_expr("-" * 100 + "1")


def test_very_long_input_is_refused_without_parsing() -> None:
    with pytest.raises(RefusedInput, match=f"longer than the limit of {MAX_LENGTH}"):
        parse_expr("1+" * 100_000 + "1")


def test_non_string_input_is_refused() -> None:
    with pytest.raises(RefusedInput, match="expected a string or an integer"):
        parse_expr(["rows"])  # type: ignore[arg-type]
    with pytest.raises(RefusedInput, match="expected a string or an integer"):
        parse_expr(True)


def test_a_size_missing_at_evaluation_is_reported() -> None:
    with pytest.raises(RefusedInput, match="no value for 'rows'"):
        parse_expr("rows").evaluate({})
