"""What an agent is shown instead of the server's absolute paths: each skills root by a label,
``<origin>:<folder name>`` (``bundled`` for the bundled skills), so a skill at
``/home/me/work/skills/alpha`` reads ``cli:skills/alpha``. A server started with ``--expose-paths``
shows the paths as they are."""

from __future__ import annotations

import os
from typing import Any

from kernel_skills.catalog.roots import SkillRoot


def root_label(root: SkillRoot) -> str:
    return "bundled" if root.origin == "bundled" else f"{root.origin}:{root.path.name or 'root'}"


class PathHider:
    """Replaces every root's path (as given and resolved) with its label, in text and in nested values."""

    def __init__(self, roots: list[SkillRoot]) -> None:
        prefixes: dict[str, str] = {}
        used: dict[str, int] = {}
        for root in roots:
            label = root_label(root)
            used[label] = used.get(label, 0) + 1
            if used[label] > 1:
                label = f"{label}#{used[label]}"  # two roots with the same folder name stay apart
            for form in {os.fspath(root.path), os.path.realpath(root.path)}:
                prefixes.setdefault(form, label)
        self._pairs = sorted(prefixes.items(), key=lambda pair: len(pair[0]), reverse=True)

    def text(self, value: str) -> str:
        for prefix, label in self._pairs:
            value = value.replace(prefix, label)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


__all__ = ["PathHider", "root_label"]
