"""A tiny, safe integer expression language for launch configurations (never ``eval``).

Accepted: non-negative integer literals, the problem's size-variable names, ``+ - * //``,
parentheses, unary minus and the functions ``ceil_div(a, b)``, ``min(a, b)``, ``max(a, b)``.
Examples: ``ceil_div(rows, 4)``, ``batch * heads``, ``(dim // 8 + 31) // 32 * 32``.

Everything is bounded so hostile input costs nothing: the text length, the nesting depth, the
number of tokens, literal digits and every intermediate value. Any violation is a RefusedInput
that says what was wrong and what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from kernel_skills.errors import RefusedInput

MAX_LENGTH = 256
MAX_DEPTH = 16
MAX_TOKENS = 128
MAX_LITERAL_DIGITS = 12
MAX_ABS_VALUE = 2**62
FUNCTIONS = ("ceil_div", "min", "max")
ACCEPTED = (
    "integers, the problem's size-variable names, + - * // ( ), and ceil_div(a, b), min(a, b), max(a, b)"
)
_DIGITS = "0123456789"
_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + _DIGITS


@dataclass(frozen=True)
class _Num:
    value: int


@dataclass(frozen=True)
class _Name:
    name: str


@dataclass(frozen=True)
class _BinOp:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Neg:
    operand: _Node


@dataclass(frozen=True)
class _Call:
    func: str
    left: _Node
    right: _Node


_Node = Union[_Num, _Name, _BinOp, _Neg, _Call]  # noqa: UP007 (recursive alias needs the string-free form)


def _refuse(text: str, why: str) -> RefusedInput:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return RefusedInput(f"launch expression {shown!r}: {why}. Accepted: {ACCEPTED}.")


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """Tokens as (kind, text, position); kinds: num, name, op, lparen, rparen, comma."""
    tokens: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch in _DIGITS:
            start = i
            while i < len(text) and text[i] in _DIGITS:
                i += 1
            if i - start > MAX_LITERAL_DIGITS:
                raise _refuse(
                    text, f"the number at position {start} has more than {MAX_LITERAL_DIGITS} digits"
                )
            tokens.append(("num", text[start:i], start))
        elif ch in _NAME_START:
            start = i
            while i < len(text) and text[i] in _NAME_CHARS:
                i += 1
            tokens.append(("name", text[start:i], start))
        elif text.startswith("//", i):
            tokens.append(("op", "//", i))
            i += 2
        elif ch == "/":
            raise _refuse(text, f"'/' at position {i} is not accepted; use // for integer division")
        elif text.startswith("**", i):
            raise _refuse(text, f"'**' at position {i} is not accepted")
        elif ch in "+-*":
            tokens.append(("op", ch, i))
            i += 1
        elif ch == "(":
            tokens.append(("lparen", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(("rparen", ch, i))
            i += 1
        elif ch == ",":
            tokens.append(("comma", ch, i))
            i += 1
        else:
            raise _refuse(text, f"unexpected character {ch!r} at position {i}")
        if len(tokens) > MAX_TOKENS:
            raise _refuse(text, f"more than {MAX_TOKENS} tokens")
    return tokens


class _Parser:
    def __init__(self, text: str, names: frozenset[str] | None) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.names = names
        self.used: set[str] = set()

    def parse(self) -> _Node:
        if not self.tokens:
            raise _refuse(self.text, "it is empty")
        node = self._expr(0)
        if self.pos != len(self.tokens):
            _, tok, where = self.tokens[self.pos]
            raise _refuse(self.text, f"unexpected {tok!r} at position {where}")
        return node

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, kind: str, what: str) -> tuple[str, str, int]:
        tok = self._peek()
        if tok is None or tok[0] != kind:
            where = "the end" if tok is None else f"{tok[1]!r} at position {tok[2]}"
            raise _refuse(self.text, f"expected {what} but found {where}")
        self.pos += 1
        return tok

    def _enter(self, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _refuse(self.text, f"nesting deeper than {MAX_DEPTH} levels")
        return depth + 1

    def _expr(self, depth: int) -> _Node:
        depth = self._enter(depth)
        node = self._term(depth)
        while (tok := self._peek()) is not None and tok[0] == "op" and tok[1] in "+-":
            self.pos += 1
            node = _BinOp(tok[1], node, self._term(depth))
        return node

    def _term(self, depth: int) -> _Node:
        node = self._unary(depth)
        while (tok := self._peek()) is not None and tok[0] == "op" and tok[1] in ("*", "//"):
            self.pos += 1
            node = _BinOp(tok[1], node, self._unary(depth))
        return node

    def _unary(self, depth: int) -> _Node:
        tok = self._peek()
        if tok is not None and tok[0] == "op" and tok[1] == "-":
            self.pos += 1
            return _Neg(self._unary(self._enter(depth)))
        return self._atom(depth)

    def _atom(self, depth: int) -> _Node:
        tok = self._peek()
        if tok is None:
            raise _refuse(self.text, "it ends where a number, name or '(' was expected")
        kind, text, where = tok
        if kind == "num":
            self.pos += 1
            return _Num(int(text))
        if kind == "lparen":
            self.pos += 1
            node = self._expr(depth)
            self._take("rparen", "')'")
            return node
        if kind == "name":
            self.pos += 1
            nxt = self._peek()
            if nxt is not None and nxt[0] == "lparen":
                if text not in FUNCTIONS:
                    raise _refuse(self.text, f"unknown function {text!r} at position {where}")
                self.pos += 1
                left = self._expr(depth)
                self._take("comma", f"',' between the two arguments of {text}()")
                right = self._expr(depth)
                self._take("rparen", f"')' closing {text}()")
                return _Call(text, left, right)
            if text in FUNCTIONS:
                raise _refuse(self.text, f"{text} at position {where} is a function; call it as {text}(a, b)")
            if self.names is not None and text not in self.names:
                known = ", ".join(sorted(self.names)) or "(none)"
                raise _refuse(self.text, f"unknown name {text!r}; this problem's size variables are {known}")
            self.used.add(text)
            return _Name(text)
        raise _refuse(self.text, f"unexpected {text!r} at position {where}")


def _check(value: int, text: str) -> int:
    if abs(value) > MAX_ABS_VALUE:
        raise _refuse(text, f"an intermediate value exceeds {MAX_ABS_VALUE}")
    return value


def _floordiv(a: int, b: int, text: str) -> int:
    if b == 0:
        raise _refuse(text, "division by zero")
    return a // b


def _eval(node: _Node, sizes: dict[str, int], text: str) -> int:
    if isinstance(node, _Num):
        return node.value
    if isinstance(node, _Name):
        if node.name not in sizes:
            raise _refuse(text, f"no value for {node.name!r}")
        return _check(int(sizes[node.name]), text)
    if isinstance(node, _Neg):
        return -_eval(node.operand, sizes, text)
    left = _eval(node.left, sizes, text)
    right = _eval(node.right, sizes, text)
    if isinstance(node, _Call):
        if node.func == "min":
            return min(left, right)
        if node.func == "max":
            return max(left, right)
        return _check(-_floordiv(-left, right, text), text)  # ceil_div
    if node.op == "+":
        return _check(left + right, text)
    if node.op == "-":
        return _check(left - right, text)
    if node.op == "*":
        return _check(left * right, text)
    return _floordiv(left, right, text)


@dataclass(frozen=True)
class Expr:
    """A parsed expression; ``evaluate(sizes)`` gives its integer value."""

    text: str
    names: frozenset[str]
    _root: _Node

    def evaluate(self, sizes: dict[str, int]) -> int:
        return _eval(self._root, sizes, self.text)


def parse_expr(text: str | int, names: frozenset[str] | set[str] | None = None) -> Expr:
    """Parse ``text``; with ``names``, any other name is refused. An ``int`` is accepted as is."""
    if isinstance(text, bool):
        raise RefusedInput(
            f"launch expression {text!r}: expected a string or an integer. Accepted: {ACCEPTED}."
        )
    if isinstance(text, int):
        text = str(text)
    if not isinstance(text, str):
        raise RefusedInput(
            f"launch expression of type {type(text).__name__}: expected a string or an integer. "
            f"Accepted: {ACCEPTED}."
        )
    if len(text) > MAX_LENGTH:
        raise RefusedInput(
            f"launch expression of {len(text)} characters is longer than the limit of {MAX_LENGTH}. "
            f"Accepted: {ACCEPTED}."
        )
    parser = _Parser(text, frozenset(names) if names is not None else None)
    root = parser.parse()
    return Expr(text=text, names=frozenset(parser.used), _root=root)


__all__ = ["ACCEPTED", "Expr", "parse_expr"]
