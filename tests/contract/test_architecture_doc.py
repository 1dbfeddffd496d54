"""docs/architecture.md draws the rooms' import graph: its list of edges is the graph the code has (read
the same way ``test_layering`` reads it), so the page cannot drift from the code unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from .test_layering import UTILITIES as UTILITY_ROOMS
from .test_layering import all_imports, room_graph

PAGE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
# Leaves every room may import (the page says so instead of drawing them); "kernel_skills" is the
# package itself (``from kernel_skills import paths, __version__``).
UTILITIES = set(UTILITY_ROOMS)
EDGE_LINE = re.compile(r"^- `(\w+)` → (.+)$", re.M)


def documented_edges(text: str) -> dict[str, set[str]]:
    """The page's ``- `room` → `a`, `b``` lines (a room with "utilities only" has no edges)."""
    return {
        m.group(1): set(re.findall(r"`(\w+)`", m.group(2)))
        for m in EDGE_LINE.finditer(text)
        if "utilities only" not in m.group(2)
    }


def test_the_page_lists_exactly_the_rooms_import_edges() -> None:
    real = {room: found - UTILITIES for room, found in room_graph(all_imports()).items()}
    real = {room: found for room, found in real.items() if found}
    assert documented_edges(PAGE.read_text(encoding="utf-8")) == real


def test_the_edge_reader_sees_a_changed_edge() -> None:
    text = "- `bench` → `toolchain`\n- `catalog`, `traces` → utilities only\n"
    assert documented_edges(text) == {"bench": {"toolchain"}}
    assert documented_edges(text.replace("`toolchain`", "`emulator`")) != {"bench": {"toolchain"}}
