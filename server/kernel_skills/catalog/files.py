"""What counts as a skill file, and its MIME type."""

from __future__ import annotations

import mimetypes

JUNK_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        ".ipynb_checkpoints",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".venv",
        "node_modules",
        "__MACOSX",
    }
)
_JUNK_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", ".tmp", "~")

# Fixed types for what skills usually carry, so results do not depend on /etc/mime.types.
_KNOWN = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".py": "text/x-python",
    ".sh": "text/x-shellscript",
    ".cu": "text/x-cuda",
    ".cuh": "text/x-cuda",
    ".h": "text/x-c",
    ".hpp": "text/x-c++",
    ".c": "text/x-c",
    ".cpp": "text/x-c++",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".csv": "text/csv",
    ".html": "text/html",
    ".xml": "application/xml",
    ".js": "text/javascript",
    ".ts": "text/x-typescript",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
_TEXTUAL_APPLICATION = frozenset(
    {"application/json", "application/yaml", "application/toml", "application/xml", "application/javascript"}
)


def is_junk(name: str) -> bool:
    return name in JUNK_NAMES or name.endswith(_JUNK_SUFFIXES) or name.startswith(".#")


def mime_type(path: str, data: bytes) -> str:
    dot = path.rfind(".")
    ext = path[dot:].lower() if dot > path.rfind("/") else ""
    known = _KNOWN.get(ext)
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path, strict=False)
    if guessed:
        return guessed
    return "text/plain" if looks_textual(data) else "application/octet-stream"


def is_text_type(mime: str) -> bool:
    return mime.startswith("text/") or mime in _TEXTUAL_APPLICATION or mime.endswith(("+json", "+xml"))


def looks_textual(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
