"""PTX text -> a ``Module``: module-level variables, functions, their registers and instructions.

Only the subset of PTX's grammar that NVRTC emits (and inline asm written by people) is accepted:
directives and statements separated by ``;``, scope braces, labels, ``.loc`` lines (which carry no
``;``), ``.section`` blocks (debug information, skipped). Anything else is a ``PtxError`` naming the
PTX line; nothing here trusts the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<float>0[fF][0-9a-fA-F]{8}|0[dD][0-9a-fA-F]{16})
  | (?P<num>0[xX][0-9a-fA-F]+U?|0[bB][01]+U?|[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+U?)
  | (?P<word>[%$.]?[A-Za-z_$%][A-Za-z0-9_$.]*(?:::[A-Za-z0-9_$.]+)*)
  | (?P<punct><|>|[{}\[\]();,:|+\-!@=])
    """,
    re.VERBOSE,
)
MAX_PTX_BYTES = 64 << 20


class PtxError(ValueError):
    """The PTX is malformed or uses what this reader does not accept; ``line`` is the PTX line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"PTX line {line}: {message}" if line else message)
        self.line = line


class Tok(NamedTuple):
    kind: str  # str float num word punct nl
    text: str
    line: int


@dataclass
class Loc:
    """A source location: file index, line, and the call site it was inlined at (or None)."""

    file: int
    line: int
    col: int
    inlined_at: tuple[int, int, int] | None = None


@dataclass
class Variable:
    """A `.global`/`.const`/`.shared`/`.local`/`.param` declaration."""

    space: str
    name: str
    type: str
    size: int  # bytes
    align: int
    init: bytes | None = None
    extern: bool = False


@dataclass
class Instruction:
    opcode: str  # with its modifiers, e.g. "ld.global.nc.v4.u32"
    operands: list[object]  # see parse_operand
    guard: str | None
    guard_neg: bool
    loc: Loc | None
    ptx_line: int
    scope: int  # the register scope it was written in


@dataclass
class Function:
    name: str
    entry: bool
    params: list[Variable]
    returns: list[Variable]
    body: list[Instruction | str] = field(default_factory=list)  # str: a label
    regs: dict[tuple[int, str], str] = field(default_factory=dict)  # (scope, name) -> type
    scopes: dict[int, int] = field(default_factory=dict)  # scope -> parent scope
    locals: list[Variable] = field(default_factory=list)  # .local and function .shared
    call_params: dict[tuple[int, str], Variable] = field(default_factory=dict)  # scope-local .param
    declared_only: bool = False
    ptx_line: int = 0


@dataclass
class Module:
    variables: list[Variable] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    files: dict[int, str] = field(default_factory=dict)
    # every `.loc` frame -> the frame it was inlined at (a chain can span several `.loc` lines that
    # carry no instruction of their own)
    inlined: dict[tuple[int, int, int], tuple[int, int, int] | None] = field(default_factory=dict)


_TYPE_SIZES = {
    "b8": 1, "u8": 1, "s8": 1, "b16": 2, "u16": 2, "s16": 2, "f16": 2, "bf16": 2,
    "b32": 4, "u32": 4, "s32": 4, "f32": 4, "f16x2": 4, "bf16x2": 4,
    "b64": 8, "u64": 8, "s64": 8, "f64": 8, "b128": 16, "pred": 1,
}  # fmt: skip
SPACES = (".global", ".const", ".shared", ".local", ".param")


def type_size(t: str) -> int:
    return _TYPE_SIZES[t.lstrip(".")]


def tokenize(text: str) -> list[Tok]:
    if len(text) > MAX_PTX_BYTES:
        raise PtxError(f"the PTX is {len(text)} bytes, more than the {MAX_PTX_BYTES} accepted")
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    out: list[Tok] = []
    append = out.append
    line = 1
    end = 0
    for m in _TOKEN.finditer(text):
        if m.start() != end:
            raise PtxError(f"unexpected character {text[end]!r}", line)
        end = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "nl":
            append(Tok("nl", "\n", line))
            line += 1
        else:
            append(Tok(kind, m.group(), line))  # type: ignore[arg-type]
    if end != len(text):
        raise PtxError(f"unexpected character {text[end]!r}", line)
    return out


class _Reader:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, skip_nl: bool = True) -> Tok | None:
        j = self.i
        while j < len(self.toks) and skip_nl and self.toks[j].kind == "nl":
            j += 1
        return self.toks[j] if j < len(self.toks) else None

    def next(self, skip_nl: bool = True) -> Tok:
        while self.i < len(self.toks) and skip_nl and self.toks[self.i].kind == "nl":
            self.i += 1
        if self.i >= len(self.toks):
            last = self.toks[-1].line if self.toks else None
            raise PtxError("unexpected end of the PTX", last)
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> Tok:
        tok = self.next()
        if tok.text != text:
            raise PtxError(f"expected {text!r}, found {tok.text!r}", tok.line)
        return tok

    def until_line_end(self) -> list[Tok]:
        out = []
        while self.i < len(self.toks) and self.toks[self.i].kind != "nl":
            out.append(self.toks[self.i])
            self.i += 1
        return out

    def statement(self) -> list[Tok]:
        """Tokens up to the next ';' at bracket depth 0 (the ';' consumed)."""
        out: list[Tok] = []
        depth = 0
        while True:
            tok = self.next()
            if tok.text in "([{":
                depth += 1
            elif tok.text in ")]}":
                depth -= 1
            elif tok.text == ";" and depth <= 0:
                return out
            out.append(tok)
            if len(out) > 100_000:
                raise PtxError("a statement without an end", tok.line)


_FUNCTION = re.compile(
    r"^[ \t]*(?:\.(?:visible|weak|extern)[ \t]+)*\.(?:entry|func)\b[^{;]*?([\w$]+)[ \t\r\n]*\(", re.M
)
_CALLEE = re.compile(r"\bcall(?:\.uni)?\s+(?:\([^)]*\)\s*,\s*)?([\w$]+)")


def only_reachable(text: str, kernel: str) -> str:
    """``text`` without the bodies of functions ``kernel`` cannot reach (found by a scan of the text;
    the parser then tokenizes only what runs). Returns ``text`` unchanged when the scan is unsure."""
    chunks: dict[str, tuple[int, int]] = {}
    for m in _FUNCTION.finditer(text):
        end = _body_end(text, m.end())
        if end is None:
            return text
        if end > 0:
            chunks.setdefault(m.group(1), (m.start(), end))
    if kernel not in chunks:
        return text
    wanted, todo = set(), [kernel]
    while todo:
        name = todo.pop()
        if name in wanted or name not in chunks:
            continue
        wanted.add(name)
        start, end = chunks[name]
        todo += _CALLEE.findall(text, start, end)
    cut = sorted(span for name, span in chunks.items() if name not in wanted)
    if not cut:
        return text
    kept, at = [], 0
    for start, end in cut:
        kept.append(text[at:start])
        kept.append("\n" * text.count("\n", start, end))  # keep PTX line numbers
        at = end
    kept.append(text[at:])
    return "".join(kept)


def _body_end(text: str, pos: int) -> int | None:
    """End of the function body that starts after ``pos`` (0: a declaration; None: unsure)."""
    brace, semi = text.find("{", pos), text.find(";", pos)
    if brace < 0 or (0 <= semi < brace and text.find(")", pos) < semi):
        return 0
    depth = 0
    for i in range(brace, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def parse(text: str) -> Module:
    reader = _Reader(tokenize(text))
    module = Module()
    while (tok := reader.peek()) is not None:
        if tok.text in (".version", ".target", ".address_size"):
            reader.next()
            reader.until_line_end()
        elif tok.text == ".file":
            reader.next()
            _file_directive(reader.until_line_end(), module)
        elif tok.text == ".section":
            reader.next()
            _skip_section(reader)
        elif tok.text == ";":
            reader.next()
        else:
            _module_statement(reader, module)
    return module


def _file_directive(toks: list[Tok], module: Module) -> None:
    if len(toks) >= 2 and toks[0].kind == "num" and toks[1].kind == "str":
        module.files[int(toks[0].text)] = toks[1].text[1:-1]


def _skip_section(reader: _Reader) -> None:
    while (tok := reader.next()).text != "{":
        pass
    depth = 1
    while depth:
        tok = reader.next()
        depth += {"{": 1, "}": -1}.get(tok.text, 0)


def _module_statement(reader: _Reader, module: Module) -> None:
    start = reader.peek()
    assert start is not None
    head: list[Tok] = []
    while True:
        tok = reader.peek()
        if tok is None:
            raise PtxError("unexpected end of the PTX in a declaration", start.line)
        if tok.text in (".entry", ".func"):
            _function(reader, module, head)
            return
        if tok.text == ";":
            reader.next()
            module.variables.append(_variable(head, start.line))
            return
        head.append(reader.next())
        if len(head) > 1_000_000:
            raise PtxError("a declaration without an end", start.line)


def _variable(toks: list[Tok], line: int) -> Variable:
    """`[.visible|.extern|.weak] .space [.align N] .type name[N][N] [= init]`."""
    words = [t.text for t in toks]
    eq = words.index("=") if "=" in words else len(words)
    decl, init = toks[:eq], toks[eq + 1 :]
    space = next((w for w in words[:eq] if w in SPACES), None)
    if space is None:
        raise PtxError(f"a module-level statement that is not a declaration: {' '.join(words[:6])}", line)
    align, vtype, name, dims = 0, None, None, []
    it = iter(range(len(decl)))
    for k in it:
        w = decl[k].text
        if w == ".align":
            align = _int(decl[k + 1])
            next(it)
        elif w.startswith(".") and w[1:] in _TYPE_SIZES:
            vtype = w[1:]
        elif w == "[":
            dims.append(_int(decl[k + 1]) if decl[k + 1].text != "]" else 0)
        elif decl[k].kind == "word" and not w.startswith(".") and name is None:
            name = w
    if vtype is None or name is None:
        raise PtxError(f"cannot read the declaration {' '.join(words[:8])}", line)
    count = 1
    for d in dims:
        count *= d
    size = count * type_size(vtype)
    if size > 1 << 32:
        raise PtxError(f"{name} declares {size} bytes", line)
    return Variable(
        space=space[1:],
        name=name,
        type=vtype,
        size=size,
        align=align or type_size(vtype),
        init=_initializer(init, vtype, size, line) if init else None,
        extern=".extern" in words,
    )


def _initializer(toks: list[Tok], vtype: str, size: int, line: int) -> bytes:
    width = type_size(vtype)
    values = [t for t in toks if t.kind in ("num", "float") or t.text == "-"]
    out = bytearray()
    neg = False
    for t in values:
        if t.text == "-":
            neg = True
            continue
        raw = int(t.text[2:], 16) if t.kind == "float" else _int(t)
        if neg:
            raw = -raw
            neg = False
        out += (raw & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    if any(t.kind == "word" for t in toks):
        raise PtxError("initialisers that name other variables are not supported", line)
    if len(out) > size:
        raise PtxError("an initialiser longer than its variable", line)
    return bytes(out) + bytes(size - len(out))


def _int(tok: Tok) -> int:
    text = tok.text.rstrip("U")
    try:
        if text.lower().startswith("0x"):
            return int(text, 16)
        if text.lower().startswith("0b"):
            return int(text[2:], 2)
        if text.startswith("0") and len(text) > 1 and text.isdigit():
            return int(text, 8)
        return int(text)
    except ValueError as exc:
        raise PtxError(f"not an integer: {tok.text!r}", tok.line) from exc


def _function(reader: _Reader, module: Module, head: list[Tok]) -> None:
    kind = reader.next()
    returns: list[Variable] = []
    if reader.peek() and reader.peek().text == "(" and kind.text == ".func":  # type: ignore[union-attr]
        returns = _param_list(reader)
    name_tok = reader.next()
    if name_tok.kind != "word":
        raise PtxError(f"expected a function name, found {name_tok.text!r}", name_tok.line)
    params = _param_list(reader) if reader.peek() and reader.peek().text == "(" else []  # type: ignore[union-attr]
    fn = Function(
        name=name_tok.text, entry=kind.text == ".entry", params=params, returns=returns,
        ptx_line=name_tok.line,
    )  # fmt: skip
    while (tok := reader.peek()) is not None and tok.text not in ("{", ";"):
        reader.next()  # .maxntid, .reqntid, .minnctapersm, .noreturn ... (performance hints)
    if tok is None:
        raise PtxError("a function without a body", name_tok.line)
    reader.next()
    if tok.text == ";":
        fn.declared_only = True
    else:
        _body(reader, fn, module.inlined)
    if fn.name in module.functions and not module.functions[fn.name].declared_only:
        if not fn.declared_only:
            raise PtxError(f"function {fn.name} defined twice", name_tok.line)
        return
    module.functions[fn.name] = fn


def _param_list(reader: _Reader) -> list[Variable]:
    reader.expect("(")
    params: list[Variable] = []
    current: list[Tok] = []
    while True:
        tok = reader.next()
        if tok.text in (",", ")"):
            if current:
                params.append(_variable(current, tok.line))
            current = []
            if tok.text == ")":
                return params
        else:
            current.append(tok)
            if tok.text == "[":
                while (inner := reader.next()).text != "]":
                    current.append(inner)
                current.append(inner)


_LOC_FIELDS = re.compile(r"inlined_at\s+(\d+)\s+(\d+)\s+(\d+)")


def _body(reader: _Reader, fn: Function, inlined: dict) -> None:
    scope_stack = [0]
    fn.scopes[0] = -1
    next_scope = 1
    loc: Loc | None = None
    while True:
        tok = reader.peek()
        if tok is None:
            raise PtxError(f"function {fn.name} has no closing brace", fn.ptx_line)
        if tok.text == "{":
            reader.next()
            fn.scopes[next_scope] = scope_stack[-1]
            scope_stack.append(next_scope)
            next_scope += 1
            continue
        if tok.text == "}":
            reader.next()
            scope_stack.pop()
            if not scope_stack:
                return
            continue
        if tok.text == ".loc":
            reader.next()
            loc = _loc(reader.until_line_end(), tok.line)
            if loc is not None:
                inlined[(loc.file, loc.line, loc.col)] = loc.inlined_at
            continue
        if tok.kind == "word" and _is_label(reader):
            reader.next()
            reader.next()  # ':'
            fn.body.append(tok.text)
            continue
        stmt = reader.statement()
        if stmt:
            _statement(stmt, fn, scope_stack[-1], loc)


def _is_label(reader: _Reader) -> bool:
    j = reader.i
    while reader.toks[j].kind == "nl":
        j += 1
    return j + 1 < len(reader.toks) and reader.toks[j + 1].text == ":"


def _loc(toks: list[Tok], line: int) -> Loc | None:
    nums = [t for t in toks[:3] if t.kind == "num"]
    if len(nums) < 2:
        return None
    text = " ".join(t.text for t in toks)
    m = _LOC_FIELDS.search(text)
    at = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    col = int(nums[2].text) if len(nums) > 2 else 0
    return Loc(int(nums[0].text), int(nums[1].text), col, at)


def _statement(stmt: list[Tok], fn: Function, scope: int, loc: Loc | None) -> None:
    first = stmt[0].text
    if first.startswith(".reg."):  # `.reg.b16 lo;` (no space, as toolkit headers' inline asm writes it)
        line = stmt[0].line
        stmt = [Tok("word", ".reg", line), Tok("word", first[4:], line), *stmt[1:]]
        first = ".reg"
    if first == ".reg":
        _reg_decl(stmt, fn, scope)
    elif first in (".local", ".shared"):
        fn.locals.append(_variable(stmt, stmt[0].line))
    elif first == ".param":
        var = _variable(stmt, stmt[0].line)
        fn.call_params[(scope, var.name)] = var
    elif first in (".pragma", ".maxnreg", ".maxntid", ".reqntid", ".minnctapersm"):
        return
    elif first.startswith(".") and first not in (".global", ".const"):
        raise PtxError(f"directive {first} is not supported inside a function", stmt[0].line)
    elif first in (".global", ".const"):
        raise PtxError(f"{first} variables inside a function are not supported", stmt[0].line)
    else:
        fn.body.append(_instruction(stmt, scope, loc))


def _reg_decl(stmt: list[Tok], fn: Function, scope: int) -> None:
    rtype = None
    k = 1
    while k < len(stmt) and stmt[k].text.startswith("."):
        if stmt[k].text == ".v2" or stmt[k].text == ".v4":
            raise PtxError("vector registers are not supported", stmt[k].line)
        rtype = stmt[k].text[1:]
        k += 1
    if rtype not in _TYPE_SIZES:
        raise PtxError(f"register type {rtype!r} is not supported", stmt[0].line)
    while k < len(stmt):
        name = stmt[k]
        if name.kind != "word":
            raise PtxError(f"expected a register name, found {name.text!r}", name.line)
        if k + 1 < len(stmt) and stmt[k + 1].text == "<":
            count = _int(stmt[k + 2])
            if count > 1_000_000:
                raise PtxError(f"{count} registers declared", name.line)
            for n in range(count):
                fn.regs[(scope, f"{name.text}{n}")] = rtype
            k += 4
        else:
            fn.regs[(scope, name.text)] = rtype
            k += 1
        if k < len(stmt) and stmt[k].text == ",":
            k += 1


def _instruction(stmt: list[Tok], scope: int, loc: Loc | None) -> Instruction:
    k = 0
    guard, neg = None, False
    if stmt[0].text == "@":
        if stmt[1].text == "!":
            neg, k = True, 1
        guard = stmt[k + 1].text
        k += 2
    if k >= len(stmt) or stmt[k].kind != "word":
        raise PtxError("expected an instruction", stmt[0].line)
    opcode = stmt[k].text
    operands = _operands(stmt[k + 1 :], stmt[k].line)
    return Instruction(opcode, operands, guard, neg, loc, stmt[k].line, scope)


@dataclass(frozen=True)
class Reg:
    name: str


@dataclass(frozen=True)
class Imm:
    value: int
    is_float: bool = False  # value holds the IEEE bits (width from the literal)
    width: int = 0


@dataclass(frozen=True)
class Sym:
    name: str


@dataclass(frozen=True)
class Addr:
    base: Reg | Sym | None
    offset: int


@dataclass(frozen=True)
class Vec:
    items: tuple[object, ...]


@dataclass(frozen=True)
class Pair:
    first: object
    second: object


@dataclass(frozen=True)
class Group:  # call's (retval) and (args) lists
    items: tuple[object, ...]


SINK = Sym("_")


def _operands(toks: list[Tok], line: int) -> list[object]:
    return [_operand(part, line) for part in _split_commas(toks) if part]


def _operand(part: list[Tok], line: int) -> object:
    first = part[0].text
    if first == "[":
        if part[-1].text != "]":
            raise PtxError("an address without its closing ']'", line)
        return _address(part[1:-1], line)
    if first == "{":
        return Vec(tuple(_operand(p, line) for p in _split_commas(part[1:-1]) if p))
    if first == "(":
        return Group(tuple(_operand(p, line) for p in _split_commas(part[1:-1]) if p))
    if len(part) == 3 and part[1].text == "|":
        return Pair(_operand([part[0]], line), _operand([part[2]], line))
    if first == "-" and len(part) == 2:
        value = _operand(part[1:], line)
        if isinstance(value, Imm) and not value.is_float:
            return Imm(-value.value)
        raise PtxError(f"cannot negate {part[1].text!r}", line)
    if first == "!" and len(part) == 2:
        return Pair(Sym("!"), _operand(part[1:], line))
    if len(part) != 1:
        raise PtxError(f"cannot read the operand {' '.join(t.text for t in part)!r}", line)
    tok = part[0]
    if tok.kind == "float":
        return Imm(int(tok.text[2:], 16), True, 4 if tok.text[1] in "fF" else 8)
    if tok.kind == "num":
        if "." in tok.text:
            raise PtxError(f"decimal float literal {tok.text} is not supported; use 0f...", line)
        return Imm(_int(tok))
    if tok.text.startswith("%"):
        return Reg(tok.text)
    if tok.kind == "word":
        return Sym(tok.text)
    raise PtxError(f"cannot read the operand {tok.text!r}", line)


def _split_commas(toks: list[Tok]) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        if t.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _address(toks: list[Tok], line: int) -> Addr:
    base: Reg | Sym | None = None
    offset = 0
    sign = 1
    for t in toks:
        if t.text in ("+", "-"):
            sign = -1 if t.text == "-" else 1
        elif t.kind == "num":
            offset += sign * _int(t)
            sign = 1
        elif t.kind == "word" and base is None:
            base = Reg(t.text) if t.text.startswith("%") else Sym(t.text)
        else:
            raise PtxError(f"cannot read the address [{' '.join(x.text for x in toks)}]", line)
    return Addr(base, offset)
