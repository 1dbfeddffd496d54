"""An endpoint that never answers fails the whole eval, plain or agentic: one clear error, exit 1, no
runs folder and no report. Some requests lost is a partial failure, counted as errors, never as wrong
answers. Real sockets: a closed port, a name that does not resolve, a real HTTP server answering
401/404/500; the real httpx client."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kernel_skills.cli import main
from kernel_skills.evals import run_eval

from .test_agent_eval import _skill as _agent_skill
from .test_eval_runner import _make_skill


def _closed_port_url() -> str:
    with socket.socket() as sock:  # bound then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class _Statuses(BaseHTTPRequestHandler):
    """Answers each request with the next status of ``statuses`` (200: a chat completion)."""

    statuses: list[int]
    lock: threading.Lock

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status == 200:
            message = {"role": "assistant", "content": "The answer is sm_90a and wgmma, 132 SMs."}
            body = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        else:
            body = {"error": {"message": f"status {status}"}}
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except ConnectionError:  # the eval stopped and closed its side first
            pass

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@contextmanager
def _answering(*statuses: int) -> Iterator[str]:
    handler = type("H", (_Statuses,), {"statuses": list(statuses), "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def _dead(kind: str) -> Iterator[tuple[str, str]]:
    """(base URL, what the error must say) for an endpoint that never answers."""
    if kind == "refused":
        yield _closed_port_url(), "cannot reach"
    elif kind == "dns":
        yield "http://kernel-skills-test.invalid/v1", "cannot reach"
    else:
        with _answering(int(kind)) as url:
            yield url, f"answered HTTP {kind}"


def _eval_argv(skill: Path, url: str, runs: Path, *, agent: bool) -> list[str]:
    argv = ["eval", str(skill), "--model", "m", "--base-url", url, "--runs-dir", str(runs)]
    argv += ["--retries", "0", "--timeout", "5"]
    return [*argv, "--agent"] if agent else argv


@pytest.mark.parametrize("agent", [False, True], ids=["plain", "agent"])
@pytest.mark.parametrize("kind", ["refused", "dns", "401", "404"])
def test_an_endpoint_that_never_answers_fails_the_eval_with_one_error_and_leaves_no_runs_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, agent: bool
) -> None:
    skill = _agent_skill(tmp_path) if agent else _make_skill(tmp_path)
    runs = tmp_path / "runs"
    with _dead(kind) as (url, said):
        code = main(_eval_argv(skill, url, runs, agent=agent))
    out, err = capsys.readouterr()
    assert code == 1
    assert out == "", "no report is printed"
    errors = [line for line in err.splitlines() if line.startswith("error (")]
    assert len(errors) == 1 and said in errors[0], err
    assert "Traceback" not in err and "0.0%" not in err
    assert not runs.exists(), f"a dead endpoint left {sorted(runs.rglob('*'))}"


@pytest.mark.parametrize("agent", [False, True], ids=["plain", "agent"])
def test_the_json_error_document_names_the_endpoint_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], agent: bool
) -> None:
    skill = _agent_skill(tmp_path) if agent else _make_skill(tmp_path)
    code = main([*_eval_argv(skill, _closed_port_url(), tmp_path / "runs", agent=agent), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["ok"] is False and doc["error"]["type"] == "EndpointError"


def test_an_endpoint_whose_every_answer_times_out_gives_no_report(tmp_path: Path) -> None:
    skill = _make_skill(tmp_path)
    with socket.socket() as sock:  # listens, never answers: every request times out
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        with pytest.raises(Exception, match="answered none of the 4 requests") as caught:
            run_eval(skill, "m", base_url=url, timeout_s=0.3, retries=0, runs_dir=tmp_path / "runs")
    assert type(caught.value).__name__ == "NoAnswers" and caught.value.exit_code == 1
    assert not (tmp_path / "runs").exists()


def test_some_requests_failing_are_counted_as_errors_not_as_wrong_answers(tmp_path: Path) -> None:
    skill = _make_skill(tmp_path)
    # One request per case and condition, one at a time: the first two answered, the rest HTTP 500.
    with _answering(200, 200, 500) as url:
        report = run_eval(skill, "m", base_url=url, retries=0, concurrency=1, runs_dir=tmp_path / "runs")
    with_, without = report.with_skill, report.without_skill  # with_skill is asked first
    assert (with_.errors, with_.judged, with_.pass_rate) == (0, 2, 1.0)
    assert (without.errors, without.judged, without.not_judged) == (2, 0, 0)
    assert without.pass_rate == 0.0 and "not in any pass rate" in " ".join(report.notes)
    folder = Path(report.runs_dir or "")
    rows = (folder / "results.csv").read_text().splitlines()
    assert sum(",no_answer," in row for row in rows) == 2


def test_an_agentic_eval_counts_lost_episodes_as_errors_not_as_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skill = _agent_skill(tmp_path)
    runs = tmp_path / "runs"
    with _answering(200, 500) as url:  # one request per episode, one episode at a time
        argv = _eval_argv(skill, url, runs, agent=True)
        code = main([*argv, "--conditions", "bare,skill_in_context", "--concurrency", "1", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    bare, in_context = doc["conditions"]["bare"], doc["conditions"]["skill_in_context"]
    assert (bare["errors"], bare["judged"]) == (0, 1)
    assert (in_context["errors"], in_context["judged"], in_context["not_judged"]) == (1, 0, 0)
    (lost,) = [e for e in doc["episodes"] if e["condition"] == "skill_in_context"]
    assert lost["ended"] == "error" and lost["score"]["status"] == "not_judged"
    assert list(runs.glob("*-agent/agent_report.json"))
