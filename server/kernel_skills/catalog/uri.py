"""``skill://<name>/<path>``: how a skill's files are addressed, by the MCP surface and in listings."""

from __future__ import annotations

from urllib.parse import quote

SCHEME = "skill://"
SKILL_MD = "SKILL.md"

_PATH_SAFE = "/-._~!$&'()*+,;=:@"


def skill_uri(name: str, path: str = SKILL_MD) -> str:
    return f"{SCHEME}{quote(name, safe='')}/{quote(path, safe=_PATH_SAFE)}"
