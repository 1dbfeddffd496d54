"""What a submission may include (the include checks; wall 1 of the include sandbox). NVRTC opens any host
file an ``#include`` names and echoes its lines in error messages, so submissions may include only the
CUDA toolkit headers and the inline headers they pass.

The wall that holds is the third one, in the compile worker (``kernel_skills.confine``, applied
by ``toolchain/worker_main.py``): the worker runs in a user and mount namespace whose root holds only the
toolkit headers and NVRTC's libraries, with Landlock on top, so no spelling of a path (macro-built,
pasted, smuggled past a lexer) reaches a host file, and a missing file and an existing one look the
same (``__has_include`` included).

Wall 1 (``check_includes``) is friendly early errors only: it reads every preprocessor directive of
the submission and its inline headers before compiling (comments, line continuations, trigraphs and
the ``%:`` digraph undone first, in one linear pass) and refuses absolute names, ``..``, macro-form
includes, ``#include_next``/``#import``/``#embed``, include pragmas and names that do not resolve to
an allowed header (symlinks followed). A hand-written lexer can be desynchronised from NVRTC's; when
that happens, wall 3 still stops the read.

Wall 2 (``filter_log``) drops from NVRTC's log every diagnostic (with its echoed source lines) that
points into a file that is neither the submission, an inline header, nor a toolkit header, and makes
every failure to open an include read the same (no "Permission denied" versus "not found").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kernel_skills.errors import RefusedInput
from kernel_skills.toolchain.headers import label as folder_label

SUBMISSION_NAME = "kernel.cu"
_TRIGRAPHS = {"=": "#", "/": "\\", "'": "^", "(": "[", ")": "]", "!": "|", "<": "{", ">": "}", "-": "~"}
_HEADER_NAME = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9_+\-./]{0,199}")
_DIRECTIVE = re.compile(r"^\s*(?:#|%:)\s*([A-Za-z_]\w*)?(.*)$", re.DOTALL)
_QUOTED = re.compile(r'^\s*(?:"([^"\n]*)"|<([^>\n]*)>)\s*$')
_HAS_INCLUDE = re.compile(r"\b(__has_include_next|__has_include|__has_embed)\b")
_HAS_INCLUDE_ARG = re.compile(r'\(\s*(?:"([^"\n]*)"|<([^>\n]*)>)\s*\)')
_FORBIDDEN_DIRECTIVES = {
    "include_next": "#include_next is not accepted",
    "import": "#import is not accepted",
    "embed": "#embed is not accepted",
}
_DENIED_PREFIXES = {
    "thrust/": "Thrust needs a host compiler and is not available here; use CUB or cuda::std",
}


@dataclass(frozen=True)
class LogicalLine:
    line: int  # 1-based line number where the logical line starts
    text: str  # comments replaced by a space; literals kept
    code: str  # same, with string/char literal contents blanked


def check_header_names(headers: Mapping[str, str]) -> None:
    for name in headers:
        _check_name_syntax(name, where="inline header name")


def check_includes(
    source: str, headers: Mapping[str, str], include_dirs: Iterable[Path], *, origin: str = SUBMISSION_NAME
) -> None:
    """Wall 1: RefusedInput naming the file, line and rule, or None when every include is allowed."""
    roots = tuple(Path(root).resolve() for root in include_dirs)
    for name, text in [(origin, source), *headers.items()]:
        for logical in logical_lines(text):
            _check_line(logical, name, headers, roots)


def _check_line(logical: LogicalLine, file: str, headers: Mapping[str, str], roots: tuple[Path, ...]) -> None:
    where = f"{file}:{logical.line}"
    for match in _HAS_INCLUDE.finditer(logical.code):
        keyword = match.group(1)
        if keyword != "__has_include":
            raise RefusedInput(f"{where}: {keyword} is not accepted")
        arg = _HAS_INCLUDE_ARG.match(logical.text, match.end())
        if arg is None:
            raise RefusedInput(f'{where}: __has_include needs a literal "name" or <name>, not a macro')
        _check_name_syntax(arg.group(1) or arg.group(2) or "", where=where)
    if "_Pragma" in logical.code and "include" in logical.text.lower():
        raise RefusedInput(f"{where}: _Pragma forms that mention include are not accepted")
    directive = _DIRECTIVE.match(logical.text)
    if directive is None:
        return
    keyword, rest = directive.group(1) or "", directive.group(2)
    if keyword in _FORBIDDEN_DIRECTIVES:
        raise RefusedInput(f"{where}: {_FORBIDDEN_DIRECTIVES[keyword]}; use #include with an allowed header")
    if keyword == "pragma" and "include" in rest.lower():
        raise RefusedInput(f"{where}: pragmas that mention include are not accepted")
    if keyword != "include":
        return
    quoted = _QUOTED.match(rest)
    if quoted is None:
        raise RefusedInput(
            f'{where}: #include must name a header literally ("name" or <name>); '
            f"macro-form includes are not accepted (got #include{rest.rstrip()})"
        )
    _check_resolves(
        quoted.group(1) if quoted.group(1) is not None else quoted.group(2), where, headers, roots
    )


def _check_name_syntax(name: str, *, where: str) -> None:
    if not _HEADER_NAME.fullmatch(name) or ".." in name.split("/") or "//" in name:
        raise RefusedInput(
            f"{where}: header name {name!r} is not accepted: use a relative name of letters, digits and "
            "_ + - . / without '..' or a leading '/' (a CUDA toolkit header or one of your inline headers)"
        )
    for prefix, why in _DENIED_PREFIXES.items():
        if name.startswith(prefix):
            raise RefusedInput(f"{where}: {name!r}: {why}")


def _check_resolves(name: str, where: str, headers: Mapping[str, str], roots: tuple[Path, ...]) -> None:
    _check_name_syntax(name, where=where)
    if name in headers:
        return
    for root in roots:
        candidate = root / name
        if not os.path.lexists(candidate):
            continue
        real = candidate.resolve()
        if not real.is_relative_to(root) or not real.is_file():
            raise RefusedInput(f"{where}: header {name!r} resolves outside the CUDA toolkit headers")
        return
    inline = ", ".join(sorted(headers)) or "none passed"
    raise RefusedInput(
        f"{where}: header {name!r} is neither a CUDA toolkit header nor an inline header "
        f"(inline headers: {inline}); pass its source in headers={{name: source}}"
    )


def logical_lines(text: str) -> list[LogicalLine]:
    """Translation phases 1-3, enough to read directives: trigraphs, continuations, comments."""
    text = re.sub(r"\?\?([=/'()!<>\-])", lambda m: _TRIGRAPHS[m.group(1)], text)
    return list(_split_logical(text))


def _split_logical(text: str) -> Iterator[LogicalLine]:
    """One forward pass, linear in the text: every step consumes at least one character and each
    look-ahead is bounded, so no input makes the scan quadratic."""
    out: list[str] = []
    code: list[str] = []
    line, start_line, i, n = 1, 1, 0, len(text)
    run_start: int | None = None  # where the identifier or pp-number being read started
    while i < n:
        ch = text[i]
        if ch == "\\":
            skip = _continuation_length(text, i)
            if skip:
                i += skip
                line += 1
            else:  # a stray backslash starts nothing
                run_start = None
                out.append(ch)
                code.append(ch)
                i += 1
            continue
        ident = _IDENT.match(text, i)
        if ident or (ch == "." and run_start is not None and _is_number(text, run_start)):
            end = ident.end() if ident else i + 1
            run_start = i if run_start is None else run_start
            out.append(text[i:end])
            code.append(text[i:end])
            i = end
            continue
        plain = _PLAIN.match(text, i)
        if plain:  # a run of characters that can start nothing: copied in one step
            run_start = None
            out.append(plain.group())
            code.append(plain.group())
            i = plain.end()
            continue
        word, number_start, run_start = _word(text, run_start, i), run_start, None
        if ch == "\n":
            yield LogicalLine(start_line, "".join(out), "".join(code))
            out, code = [], []
            line += 1
            start_line = line
            i += 1
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                skip = _continuation_length(text, i) if text[i] == "\\" else 0
                if skip:
                    i += skip
                    line += 1
                else:
                    i += 1
            out.append(" ")
            code.append(" ")
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            out.append(" ")
            code.append(" ")
            continue
        if ch == "'" and word is not None and word[:1].isdigit():
            out.append(ch)  # a digit separator inside a number (1'000)
            code.append(ch)
            run_start = number_start
            i += 1
            continue
        if ch == '"' or ch == "'":
            end = _literal_end(text, i, raw=ch == '"' and word in _RAW_PREFIXES)
            literal = text[i:end]
            line += literal.count("\n")
            out.append(literal)
            code.append(ch + " " * (len(literal) - 2) + ch if len(literal) >= 2 else ch)
            i = end
            continue
        out.append(ch)
        code.append(ch)
        i += 1
    if out:
        yield LogicalLine(start_line, "".join(out), "".join(code))


_RAW_PREFIXES = frozenset({"R", "LR", "uR", "UR", "u8R"})
_IDENT = re.compile(r"[\w$]+")  # identifier and number characters (EDG accepts $ and Unicode letters)
_PLAIN = re.compile(r"[^\w$\\\n/\"'.]+")
_RAW_DELIMITER = re.compile(r'[^\s()\\"]{0,16}\(')
_SPLICE = re.compile(r"\\[ \t]*\r?\n")
_LITERAL_BODY = {q: re.compile(rf"(?:[^{q}\\\n]|\\[\s\S])*") for q in "\"'"}  # an escape skips one char


def _is_number(text: str, start: int) -> bool:
    return text[start].isdigit()  # a pp-number starts with a digit (".5" is read as "." then "5")


def _word(text: str, start: int | None, end: int) -> str | None:
    """The identifier or number just before ``end`` (line splices removed). Only its first
    character and short words (literal prefixes) matter, so long runs are not copied."""
    if start is None:
        return ""
    if end - start > 32:
        return text[start]  # too long to be a literal prefix; enough to tell a number
    return _SPLICE.sub("", text[start:end])


def _continuation_length(text: str, i: int) -> int:
    """Length of a backslash-newline (spaces allowed before the newline, as GCC and EDG accept)."""
    match = _SPLICE.match(text, i)
    return match.end() - i if match else 0


def _literal_end(text: str, i: int, *, raw: bool) -> int:
    """End of the string or character literal opening at ``i``. A raw string's delimiter is at most
    16 characters (C++ [lex.string]); without a valid one the quote opens an ordinary literal."""
    quote = text[i]
    if raw:
        delimiter = _RAW_DELIMITER.match(text, i + 1)
        if delimiter:
            closing = ")" + text[i + 1 : delimiter.end() - 1] + '"'
            end = text.find(closing, delimiter.end())
            return len(text) if end < 0 else end + len(closing)
    j = _LITERAL_BODY[quote].match(text, i + 1).end()
    # An unterminated literal ends at the newline, which still ends the logical line.
    return j + 1 if j < len(text) and text[j] == quote else j


# ---- wall 2 ----------------------------------------------------------------------------------------

_LOG_HEADER = re.compile(r"^(?P<file>.+?)\((?P<line>\d+)\): (?P<rest>.*)$")
_LOG_AT_LINE = re.compile(r'at line \d+ of "?(?P<file>[^"]+?)"?\s*$')
_OPEN_FAILURE = re.compile(r'((?:cannot|could not) open source file "[^"\n]*")[^\n]*')


def filter_log(log: str, allowed_names: Iterable[str], include_dirs: Iterable[Path]) -> tuple[str, int]:
    """Wall 2: keep only diagnostics that point into allowed files. Returns (log, blocks withheld).

    Toolkit paths are shown as ``<cuda-include>/...`` so the log does not reveal where the wheels are.
    """
    allowed = set(allowed_names)
    roots = [(str(Path(root).resolve()), label) for root, label in _labelled(include_dirs)]
    kept: list[str] = []
    withheld = 0
    dropping = False
    for raw_line in log.splitlines():
        header = _LOG_HEADER.match(raw_line)
        if header:
            dropping = not _allowed_file(header.group("file"), allowed, roots)
            withheld += dropping
        elif raw_line and not raw_line[0].isspace():
            dropping = False
        at_line = _LOG_AT_LINE.search(raw_line)
        if dropping or (at_line and not _allowed_file(at_line.group("file"), allowed, roots)):
            continue
        kept.append(_relabel(_OPEN_FAILURE.sub(r"\1", raw_line), roots))
    if withheld:
        kept.append(
            f"[{withheld} diagnostic(s) pointing outside the submission and allowed headers withheld]"
        )
    return "\n".join(kept).strip("\n\x00 ") + ("\n" if kept else ""), withheld


def _labelled(include_dirs: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    dirs = sorted((Path(d).resolve() for d in include_dirs), key=lambda p: -len(str(p)))
    for path in dirs:
        yield path, folder_label(path)


def _allowed_file(file: str, allowed: set[str], roots: list[tuple[str, str]]) -> bool:
    if file in allowed:
        return True
    if not os.path.isabs(file):
        return False
    real = os.path.realpath(file)
    return any(real.startswith(root + os.sep) for root, _ in roots)


def _relabel(line: str, roots: list[tuple[str, str]]) -> str:
    for root, label in roots:
        line = line.replace(root, label)
    return line
