"""An OpenAI-compatible endpoint on 127.0.0.1 that replays a recorded agent transcript.

Requests with ``tools`` get the transcript's reply for the number of assistant turns already in the
conversation (so interleaved episodes each get their own next step); requests without tools get the
plain answer for their condition (skill body in the system prompt or not, or the turn-limit request).
Real sockets and the real httpx client; only the model is replaced by its recorded replies.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def call(name: str, arguments: dict[str, Any] | str, call_id: str = "") -> dict[str, Any]:
    """One recorded tool call (``arguments`` as a string is sent verbatim: malformed ones too)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id or f"call_{name}", "type": "function", "function": {"name": name, "arguments": raw}}


@dataclass
class Transcript:
    tool_turns: list[dict[str, Any]] = field(default_factory=list)  # assistant messages, in order
    bare_answer: str = "I am not sure."
    skill_answer: str = "I am not sure."
    final_answer: str = "I ran out of turns."  # the answer to the turn-limit request
    skill_marker: str = "You have loaded the skill"
    refuse_tools: str | None = None  # answer requests with tools with HTTP 400 and this message
    repeat_last: bool = False  # past the transcript's end, repeat its last reply (a looping model)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        messages = body["messages"]
        if body.get("tools"):
            if self.refuse_tools is not None:
                return 400, {"error": {"message": self.refuse_tools}}
            turn = sum(1 for m in messages if m["role"] == "assistant")
            if turn >= len(self.tool_turns):
                if not self.repeat_last:
                    return 200, {"role": "assistant", "content": self.final_answer}
                turn = len(self.tool_turns) - 1
            return 200, {"role": "assistant", "content": None, **self.tool_turns[turn]}
        if "Turn limit reached" in messages[-1]["content"]:
            return 200, {"role": "assistant", "content": self.final_answer}
        if self.skill_marker in messages[0]["content"]:
            return 200, {"role": "assistant", "content": self.skill_answer}
        return 200, {"role": "assistant", "content": self.bare_answer}


class _Handler(BaseHTTPRequestHandler):
    transcript: Transcript
    lock: threading.Lock

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.lock:
            self.transcript.requests.append(body)
            status, message = self.transcript.reply(body)
        if status != 200:
            payload = json.dumps(message).encode()
        else:
            payload = json.dumps(
                {
                    "id": "cmpl",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                }
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def serve(transcript: Transcript) -> Iterator[str]:
    """Serve ``transcript``; yields the base URL."""
    handler = type("Handler", (_Handler,), {"transcript": transcript, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
