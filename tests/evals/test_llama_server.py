"""Talking to llama-server: slot priming through its /slots API, and a port already taken.

The endpoint here stands where llama-server's HTTP API is (the external boundary); it records what it
is asked, so the test checks the order of calls the priming relies on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kernel_skills.evals.lift import prime_or_say_why, prime_slots, start_server

FULL_DISK = threading.Event()


@pytest.fixture
def llama_api() -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    calls: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send({"data": [{"id": "m"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            calls.append((self.path, body))
            if self.path.startswith("/v1/chat/completions"):
                self._send({"choices": [{"index": 0, "message": {"role": "assistant", "content": "."}}]})
            elif (
                "full" in self.path or FULL_DISK.is_set()
            ):  # llama-server when the slot file cannot be written
                self._send({"error": {"code": 500, "message": "failed to save slot"}}, status=500)
            else:
                self._send({"id_slot": 0, "n_saved": 3000})

        def _send(self, payload: dict, status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def test_the_shared_prompt_is_processed_once_in_slot_0_and_copied_into_the_others(llama_api) -> None:
    root, calls = llama_api
    prime_slots(f"{root}/v1", "SKILL BODY", model="m", parallel=3)
    (chat_path, chat), *slots = calls
    assert chat_path == "/v1/chat/completions" and chat["id_slot"] == 0 and chat["max_tokens"] == 1
    assert chat["messages"][0] == {"role": "system", "content": "SKILL BODY"}
    assert [p for p, _ in slots] == [
        "/slots/0?action=save",
        "/slots/1?action=restore",
        "/slots/2?action=restore",
    ]
    assert {b["filename"] for _, b in slots} == {"primed-prefix.bin"}


def test_slots_that_cannot_be_saved_leave_the_eval_running_unprimed_and_say_so(llama_api) -> None:
    root, _ = llama_api
    FULL_DISK.set()
    try:
        said = prime_or_say_why(f"{root}/v1", "SKILL BODY", model="m", parallel=2)
    finally:
        FULL_DISK.clear()
    assert said.startswith("priming the slots failed (HTTPStatusError") and "500" in said
    assert "every slot will process the skill prompt itself" in said
    assert prime_or_say_why(f"{root}/v1", "SKILL BODY", model="m", parallel=2).startswith("the skill prompt")


def test_a_port_that_already_answers_is_refused_before_starting_a_server(llama_api, tmp_path: Path) -> None:
    root, _ = llama_api
    port = int(root.rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match=f"port {port} on 127.0.0.1 already answers"):
        start_server(
            tmp_path / "no-binary",
            tmp_path / "m.gguf",
            port=port,
            parallel=1,
            ctx=512,
            log_file=tmp_path / "log",
        )
