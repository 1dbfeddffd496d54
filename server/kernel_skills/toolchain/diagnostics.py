"""Turn NVRTC's (already filtered) log into diagnostics with a line, column and a source excerpt.

NVRTC prints ``file(LINE): error: message``, then the source line indented by two spaces and a caret
line under the column. Toolkit-header diagnostics are kept, their file named as it is included
(``cooperative_groups/details/info.h``, ``toolkit`` true), never as the submission's line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kernel_skills.toolchain.models import Diagnostic

_HEADER = re.compile(
    r"^(?P<file>.+?)\((?P<line>\d+)\): (?P<severity>catastrophic error|error|warning|remark|note)"
    r"(?: #(?P<code>[\w-]+))?: (?P<message>.*)$"
)
_PTXAS = re.compile(
    r"^ptxas(?: application ptx input, line (?P<ptx_line>\d+);)?\s+"
    r"(?P<severity>error|warning|fatal)\s*: (?P<message>.*)$"
)
_LABELLED = re.compile(r"^<(?:cuda|cccl|kernel-skills)-include>/(?P<name>.+)$")
_SEVERITY = {
    "catastrophic error": "fatal",
    "error": "error",
    "warning": "warning",
    "remark": "remark",
    "note": "remark",
}


def parse_diagnostics(log: str, sources: Mapping[str, str]) -> list[Diagnostic]:
    """``sources`` maps a file name in the log (submission, inline headers) to its text for excerpts."""
    lines = log.splitlines()
    found: list[Diagnostic] = []
    for index, text in enumerate(lines):
        if ptxas := _PTXAS.match(text):
            found.append(_ptxas_diagnostic(ptxas))
            continue
        match = _HEADER.match(text)
        if not match:
            continue
        block = _block(lines, index + 1)
        caret = next((i for i, follow in enumerate(block) if _is_caret(follow)), None)
        column = block[caret].index("^") - 1 if caret is not None else None  # echo is indented by two
        # Lines between the header and the echoed source line continue the message.
        extra = block[: caret - 1] if caret is not None and caret >= 1 else []
        message_lines = [match.group("message"), *(line.strip() for line in extra if line.strip())]
        after = block[caret + 1 :] if caret is not None else []
        message_lines += [line.strip() for line in after if "detected during" in line or " at line " in line]
        file, toolkit = _toolkit_name(match.group("file"))
        line = int(match.group("line"))
        found.append(
            Diagnostic(
                severity=_SEVERITY[match.group("severity")],  # type: ignore[arg-type]
                line=line,
                column=column,
                message=" ".join(message_lines).strip(),
                file=file,
                code=match.group("code"),
                excerpt=excerpt(sources[file], line, column) if file in sources and not toolkit else None,
                toolkit=toolkit,
            )
        )
    return found


def _toolkit_name(file: str) -> tuple[str, bool]:
    """A labelled toolkit path (``<cuda-include>/cooperative_groups/details/info.h``, as wall 2 writes
    it) becomes the name it is included by; other files keep theirs."""
    labelled = _LABELLED.match(file)
    return (labelled.group("name"), True) if labelled else (file, False)


def _block(lines: list[str], start: int) -> list[str]:
    """The lines that belong to one diagnostic: up to the next header or unindented line."""
    block: list[str] = []
    for follow in lines[start : start + 60]:
        if _HEADER.match(follow) or (follow and not follow[0].isspace()):
            break
        block.append(follow)
    return block


def _is_caret(line: str) -> bool:
    return line.startswith("  ") and set(line.strip()) == {"^"}


def _ptxas_diagnostic(match: re.Match[str]) -> Diagnostic:
    """ptxas (the PTX assembler) reports PTX lines, not source lines: shown as such, line left empty."""
    where = f" (PTX line {match.group('ptx_line')})" if match.group("ptx_line") else ""
    return Diagnostic(
        severity=match.group("severity"),  # type: ignore[arg-type]
        line=None,
        column=None,
        message=f"ptxas{where}: {match.group('message').strip()}",
        file="<ptx>",
    )


def excerpt(source: str, line: int, column: int | None, context: int = 2) -> str | None:
    """A code frame: ``context`` lines either side, the line marked with '>' and a caret under it."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    out: list[str] = []
    for number in range(first, last + 1):
        marker = ">" if number == line else " "
        out.append(f"{marker} {number:>{width}} | {lines[number - 1]}")
        if number == line and column:
            out.append(f"  {' ' * width} | {' ' * (column - 1)}^")
    return "\n".join(out)
