"""Split a SKILL.md into frontmatter and body, and parse the frontmatter safely.

The YAML is composed into a node graph (libyaml when available) and converted to JSON-safe
Python values by walking that graph ourselves, so that:
- nothing is constructed from arbitrary tags (only the YAML core schema: str, int, float, bool,
  null, timestamp; timestamps become ISO strings);
- an alias bomb is refused after a fixed number of expanded nodes, in milliseconds, before any
  value is built (the composer shares aliased nodes, so composing is linear in the input size);
- duplicate keys, merge keys (``<<``) and non-scalar keys are errors, as in strictyaml (which
  the reference validator uses);
- spec string fields (``name``, ``description``, ...) and ``metadata`` values are taken as the
  scalar's text, so ``description: yes`` is the string "yes" (as strictyaml reads it), not True.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kernel_skills.catalog.limits import (
    MAX_FRONTMATTER_BYTES,
    MAX_SKILL_MD_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
)
from kernel_skills.catalog.models import Issue

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Fields whose values the spec defines as strings: read as the scalar's text.
STRING_FIELDS = frozenset({"name", "description", "license", "compatibility", "allowed-tools"})

_TAG = "tag:yaml.org,2002:"
_DELIMITER = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


class FrontmatterError(Exception):
    """SKILL.md could not be split or its frontmatter could not be parsed; carries one Issue."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.issue = Issue(field=field, message=message)


@dataclass(frozen=True)
class SkillMd:
    frontmatter: dict[str, Any]
    body: str


def parse_skill_md(data: bytes) -> SkillMd:
    """Parse SKILL.md bytes. Raises FrontmatterError with a message that says what is accepted."""
    if len(data) > MAX_SKILL_MD_BYTES:
        raise FrontmatterError(
            "SKILL.md",
            f"SKILL.md is {len(data)} bytes; the limit is {MAX_SKILL_MD_BYTES} bytes "
            "(move long material into references/ files)",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrontmatterError(
            "SKILL.md", f"SKILL.md is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    raw, body = split_frontmatter(text)
    size = len(raw.encode("utf-8"))
    if size > MAX_FRONTMATTER_BYTES:
        raise FrontmatterError(
            "frontmatter",
            f"frontmatter is {size} bytes; the limit is {MAX_FRONTMATTER_BYTES} bytes",
        )
    return SkillMd(frontmatter=load_frontmatter(raw), body=body)


def split_frontmatter(text: str) -> tuple[str, str]:
    """Return (frontmatter YAML, body). The file must start with a `---` line and the frontmatter
    ends at the next line that is exactly `---` (trailing spaces and CRLF allowed)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    opening = _DELIMITER.match(text)
    if opening is None:
        raise FrontmatterError(
            "SKILL.md", "SKILL.md must start with a `---` line, then YAML frontmatter, then a `---` line"
        )
    start = opening.end() + 1
    closing = _DELIMITER.search(text, start)
    if closing is None:
        raise FrontmatterError(
            "SKILL.md", "SKILL.md frontmatter is not closed: add a line `---` after the YAML"
        )
    body = text[closing.end() + 1 :]
    return text[start : closing.start()], body.lstrip("\r\n")


def load_frontmatter(raw: str, first_line: int = 2) -> dict[str, Any]:
    """The frontmatter's values. ``first_line``: the SKILL.md line the YAML starts on (after the
    opening `---`), so that errors cite the file's own lines."""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise FrontmatterError(
            "frontmatter", f"frontmatter is not valid YAML: {yaml_message(exc, first_line)}"
        ) from exc
    except RecursionError as exc:
        raise FrontmatterError(
            "frontmatter", f"frontmatter nests too deeply (the limit is {MAX_YAML_DEPTH} levels)"
        ) from exc
    finally:
        loader.dispose()
    if node is None:
        raise FrontmatterError(
            "frontmatter", "frontmatter is empty: it needs at least `name` and `description`"
        )
    if not isinstance(node, MappingNode) or node.tag != f"{_TAG}map":
        raise FrontmatterError("frontmatter", "frontmatter must be a YAML mapping of `key: value` lines")
    return _Converter(first_line).top(node)


# What to do about the YAML errors skill authors make most (matched on the parser's problem text).
_HINTS = (
    ("mapping values are not allowed", "a value contains `: `; put the value in quotes"),
    ("tab character", "indent with spaces, not tabs"),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
    ("expected ',' or ']'", "a `[` list is not closed with `]`"),
    ("expected ',' or '}'", "a `{` mapping is not closed with `}`"),
    ("found undefined alias", "`*name` refers to no `&name` anchor; quote a value that starts with `*`"),
    ("found character that cannot start any token", "quote a value that starts with `@`, `` ` `` or `%`"),
)


def yaml_message(exc: yaml.YAMLError, first_line: int = 1) -> str:
    """The parser's complaint at the file's own line and column, without its internals (no
    'in "<unicode string>"'), with a hint for the common mistakes. ``first_line``: the file line of
    the parsed text's first line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or not problem:
        return " ".join(str(exc).replace('in "<unicode string>", ', "").split())[:300]
    text = f"line {mark.line + first_line}, column {mark.column + 1}: {problem}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        text += f" ({context} on line {context_mark.line + first_line})"
    hint = next((h for needle, h in _HINTS if needle in problem), None)
    return f"{text}; {hint}" if hint else text


class _Converter:
    """Node graph -> JSON-safe values, counting every node visit (aliases count each time)."""

    def __init__(self, first_line: int = 2) -> None:
        self.first_line = first_line  # the file line of the YAML's first line
        self.visited = 0
        self.active: set[int] = set()
        self.constructor: yaml.constructor.SafeConstructor | None = None  # built on first use

    def top(self, node: MappingNode) -> dict[str, Any]:
        self._count(node, 0)
        out: dict[str, Any] = {}
        for key, value in self._pairs(node, "frontmatter"):
            if key in STRING_FIELDS and isinstance(value, ScalarNode):
                self._count(value, 1)
                out[key] = value.value
            elif key == "metadata" and isinstance(value, MappingNode):
                out[key] = self._metadata(value)
            else:
                out[key] = self.convert(value, key, 1)
        return out

    def _metadata(self, node: MappingNode) -> dict[str, Any]:
        self._count(node, 1)
        out: dict[str, Any] = {}
        for key, value in self._pairs(node, "metadata"):
            # Scalars are text (as in strictyaml); anything else is converted so validation can name it.
            if isinstance(value, ScalarNode):
                self._count(value, 2)
                out[key] = value.value
            else:
                out[key] = self.convert(value, f"metadata.{key}", 2)
        return out

    def _count(self, node: Node, depth: int) -> None:
        self.visited += 1
        if self.visited > MAX_YAML_NODES:
            raise FrontmatterError(
                "frontmatter",
                f"frontmatter expands to more than {MAX_YAML_NODES} YAML nodes (aliases counted each "
                "time they are used); refusing it — an alias bomb looks like this. Write the values out "
                "without `&anchors` and `*aliases`",
            )
        if depth > MAX_YAML_DEPTH:
            raise FrontmatterError("frontmatter", f"frontmatter nests deeper than {MAX_YAML_DEPTH} levels")

    def _pairs(self, node: MappingNode, where: str) -> list[tuple[str, Node]]:
        pairs: list[tuple[str, Node]] = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                raise FrontmatterError(where, "YAML merge keys (`<<`) are not supported in frontmatter")
            if not isinstance(key_node, ScalarNode):
                raise FrontmatterError(where, "frontmatter keys must be plain strings, not lists or mappings")
            key = key_node.value
            if key in seen:
                line = key_node.start_mark.line + self.first_line
                field = where if where != "frontmatter" else key
                raise FrontmatterError(field, f"key `{key}` appears twice (again on line {line})")
            seen.add(key)
            pairs.append((key, value_node))
        return pairs

    def convert(self, node: Node, where: str, depth: int) -> Any:
        self._count(node, depth)
        if id(node) in self.active:
            raise FrontmatterError(
                where, "frontmatter contains a recursive alias (a value that contains itself)"
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node, where)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == f"{_TAG}seq":
                return [self.convert(item, where, depth + 1) for item in node.value]
            if isinstance(node, MappingNode) and node.tag == f"{_TAG}map":
                return {k: self.convert(v, f"{where}.{k}", depth + 1) for k, v in self._pairs(node, where)}
        finally:
            self.active.discard(id(node))
        raise FrontmatterError(
            where, f"unsupported YAML tag `{node.tag}`; use plain strings, numbers, lists, maps"
        )

    def _scalar(self, node: ScalarNode, where: str) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise FrontmatterError(
                where, f"unsupported YAML tag `{node.tag}`; use plain strings, numbers, booleans or dates"
            )
        if self.constructor is None:
            self.constructor = yaml.constructor.SafeConstructor()
        try:
            value = self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise FrontmatterError(where, f"cannot read value {node.value!r}: {exc}") from exc
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            return node.value  # JSON has no NaN/Infinity: keep the text
        return value
