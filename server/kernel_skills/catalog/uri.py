"""``skill://<name>/<path>``: how a skill's files are addressed, by the MCP surface and in listings; the one
place that builds (``skill_uri``) and parses (``parse_skill_uri``) them."""

from __future__ import annotations

from urllib.parse import quote, unquote

from kernel_skills.errors import RefusedInput

SCHEME = "skill://"
SKILL_MD = "SKILL.md"

_PATH_SAFE = "/-._~!$&'()*+,;=:@"


def skill_uri(name: str, path: str = SKILL_MD) -> str:
    return f"{SCHEME}{quote(name, safe='')}/{quote(path, safe=_PATH_SAFE)}"


_URI_HELP = f"expected {SCHEME}<skill-name>/<file-path>, e.g. {SCHEME}my-skill/SKILL.md"


def parse_skill_uri(uri: str) -> tuple[str, str]:
    """``skill://<name>/<path>`` -> (name, path); RefusedInput otherwise. Containment is the catalog's job."""
    if not uri.startswith(SCHEME):
        raise RefusedInput(f"not a skill URI: {uri!r}; {_URI_HELP}")
    name, sep, path = uri[len(SCHEME) :].partition("/")
    if not name or not sep or not path:
        raise RefusedInput(f"skill URI {uri!r} needs both a skill name and a file path; {_URI_HELP}")
    if "?" in path or "#" in path:
        raise RefusedInput(f"skill URI {uri!r} has a query or fragment; {_URI_HELP}")
    return unquote(name), unquote(path)
