"""Writing traces: one JSON Lines file per client connection, sources stored once by content hash.

Appends are line-buffered and flushed per event, so a killed server leaves a readable trace. Safe to
call from several threads (the compile and benchmark tools run in worker threads).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kernel_skills.errors import RefusedInput
from kernel_skills.traces.models import TraceEvent

SOURCES = "sources"
SOURCE_SUFFIX = ".cu"


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def client_slug(name: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name or "client").strip("-.")[:40] or "client"


class TraceSession:
    """One trace file. ``record(**fields)`` appends a ``TraceEvent`` (seq, timestamps filled in)."""

    def __init__(self, recorder: TraceRecorder, path: Path, client: str | None) -> None:
        self.recorder = recorder
        self.path = path
        self.client = client
        self._start = time.monotonic()
        self._seq = 0
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        return self.path.stem

    def record(self, **fields: Any) -> TraceEvent:
        with self._lock:
            event = TraceEvent(
                seq=self._seq,
                at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                elapsed_s=round(time.monotonic() - self._start, 3),
                client=self.client,
                **fields,
            )
            self._seq += 1
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(event.model_dump_json(exclude_none=True, exclude_defaults=False) + "\n")
        return event

    def store_source(self, text: str) -> str:
        return self.recorder.store_source(text)


class TraceRecorder:
    """Owns a record folder; ``session(client)`` starts a new trace file in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            (self.folder / SOURCES).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RefusedInput(f"cannot create the trace folder {self.folder}: {exc}") from exc
        self._lock = threading.Lock()

    def session(self, client: str | None, **info: Any) -> TraceSession:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{client_slug(client)}-{secrets.token_hex(3)}.jsonl"
        session = TraceSession(self, path, client)
        session.record(kind="session", method="session", info=info)
        return session

    def store_source(self, text: str) -> str:
        digest = source_hash(text)
        target = self.folder / SOURCES / f"{digest}{SOURCE_SUFFIX}"
        with self._lock:
            if not target.exists():
                tmp = target.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(text, encoding="utf-8", errors="surrogatepass")
                tmp.replace(target)
        return digest
