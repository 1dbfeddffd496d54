"""A deterministic "model" behind a real OpenAI-compatible HTTP endpoint on 127.0.0.1.

It replays recorded answers of a real model (``transcript``), or it answers a question with all
of that question's expected strings only when the system prompt
contains the skill's marker text; otherwise with a configurable partial answer. Real sockets, real
httpx client code, nothing mocked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class FakeModel:
    """What the server knows: answers per question, the text that means "the skill is loaded"."""

    skill_marker: str = ""
    answers: dict[str, list[str]] = field(default_factory=dict)  # question -> expected strings
    without_skill_answer: dict[str, str] = field(default_factory=dict)  # question -> answer text
    status: int = 200  # anything else: answer that HTTP status ...
    failures_left: int | None = None  # ... only this many times (None: always), then 200
    raw_body: bytes | None = None  # answer these bytes instead of a chat completion
    raw_bodies: list[bytes] = field(default_factory=list)  # ... these first, one per request, in order
    usage: bool = True
    # (skill loaded, question) -> a recorded answer
    transcript: dict[tuple[bool, str], str] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)  # questions answered only after `release` (or 10 s)
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[dict] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def reply(self, body: dict) -> str:
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        question = next(m["content"] for m in body["messages"] if m["role"] == "user")
        loaded = bool(self.skill_marker) and self.skill_marker in system
        if (loaded, question) in self.transcript:
            return self.transcript[(loaded, question)]
        if loaded:
            return "Answer: " + "; ".join(s.upper() for s in self.answers.get(question, []))
        return self.without_skill_answer.get(question, "I am not sure.")


class _Handler(BaseHTTPRequestHandler):
    model: FakeModel
    lock: threading.Lock

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        with self.lock:
            self.model.requests.append(body)
            self.model.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.model.paths.append(self.path)
        question = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
        if question in self.model.hold:
            self.model.release.wait(timeout=10)
        with self.lock:
            fail = self.model.status != 200 and self.model.failures_left != 0
            if fail and self.model.failures_left is not None:
                self.model.failures_left -= 1
        if fail:
            self._send(self.model.status, b'{"error": {"message": "nope"}}')
            return
        with self.lock:
            queued = self.model.raw_bodies.pop(0) if self.model.raw_bodies else None
        if queued is not None or self.model.raw_body is not None:
            self._send(200, queued if queued is not None else self.model.raw_body)  # type: ignore[arg-type]
            return
        completion = {
            "id": "cmpl-1",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.model.reply(body)}}],
        }
        if self.model.usage:
            completion["usage"] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        self._send(200, json.dumps(completion).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        del format, args


@dataclass
class FakeEndpoint:
    model: FakeModel
    base_url: str


@pytest.fixture
def fake_endpoint() -> Iterator[FakeEndpoint]:
    model = FakeModel()
    handler = type("Handler", (_Handler,), {"model": model, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield FakeEndpoint(model=model, base_url=f"http://{host}:{port}/v1")
    finally:
        model.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's real endpoint or key, nor write runs/ into the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
