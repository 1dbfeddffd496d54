"""run_eval and the CLI against a real local HTTP endpoint (see conftest.FakeModel)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from kernel_skills.cli import main
from kernel_skills.errors import RefusedInput
from kernel_skills.evals import EndpointError, run_eval

MARKER = "Always build wgmma kernels for sm_90a."
Q1 = "Which target do wgmma kernels need?"
Q2 = "How many SMs does an H100 SXM have?"


def _make_skill(root: Path, *, meta: dict | None = None) -> Path:
    skill = root / "demo-skill"
    skill.mkdir()
    (skill / "SKILL.md").write_text(
        f"---\nname: demo-skill\ndescription: A demo skill for tests.\n---\n\n# Demo\n\n{MARKER}\n",
        encoding="utf-8",
    )
    if meta is None:
        meta = {
            "metadata": {"name": "demo-skill"},
            "tests": [
                {"input": Q1, "expected": {"contains": ["sm_90a", "wgmma"]}},
                {"input": Q2, "expected": {"contains": ["132", "SMs"]}},
            ],
        }
    (skill / "skill_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return skill


@pytest.fixture
def skill(tmp_path: Path) -> Path:
    return _make_skill(tmp_path)


def _teach(endpoint, skill: Path) -> None:
    endpoint.model.skill_marker = MARKER
    meta = json.loads((skill / "skill_meta.json").read_text())
    endpoint.model.answers = {t["input"]: t["expected"]["contains"] for t in meta["tests"]}


def test_lift_is_one_when_only_the_skill_run_contains_the_answers(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    report = run_eval(skill, "demo-model", base_url=fake_endpoint.base_url, runs=2)
    assert report.skill == "demo-skill"
    assert report.runs == 2
    assert report.without_skill.pass_rate == 0.0
    assert report.with_skill.pass_rate == 1.0
    assert report.lift == 1.0
    assert report.fraction_lift == 1.0
    assert [c.lift for c in report.cases] == [1.0, 1.0]
    assert all(len(c.with_skill.runs) == 2 for c in report.cases)
    assert len(fake_endpoint.model.requests) == 2 * 2 * 2  # cases x conditions x runs
    assert set(fake_endpoint.model.paths) == {"/v1/chat/completions"}
    assert {r["model"] for r in fake_endpoint.model.requests} == {"demo-model"}


def test_usage_is_summed_per_condition(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=3)
    assert report.with_skill.usage is not None
    assert report.with_skill.usage.total_tokens == 15 * 2 * 3
    assert report.without_skill.usage.prompt_tokens == 10 * 2 * 3


def test_usage_is_none_when_the_endpoint_reports_none(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    fake_endpoint.model.usage = False
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert report.with_skill.usage is None
    assert report.without_skill.usage is None


def test_only_the_with_skill_prompt_carries_the_body(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    run_eval(skill, "m", base_url=fake_endpoint.base_url, concurrency=1)
    systems = [r["messages"][0]["content"] for r in fake_endpoint.model.requests]
    assert sum(MARKER in s for s in systems) == 2
    assert sum(MARKER not in s for s in systems) == 2
    assert not any("name: demo-skill" in s for s in systems), "frontmatter must be stripped"


def test_one_condition_is_asked_after_the_other_so_the_engine_reuses_the_cached_skill_prompt(
    fake_endpoint, skill: Path
) -> None:
    _teach(fake_endpoint, skill)
    run_eval(skill, "m", base_url=fake_endpoint.base_url, concurrency=1, runs=2, seed=7, temperature=0.7)
    requests = fake_endpoint.model.requests
    loaded = [MARKER in r["messages"][0]["content"] for r in requests]
    assert loaded == [True] * 4 + [False] * 4
    assert [r["seed"] for r in requests] == [7, 7, 8, 8] * 2  # run r samples with seed + r


def test_partial_answer_fails_the_case_but_counts_strings_hit(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    fake_endpoint.model.without_skill_answer = {Q1: "Use SM_90A.", Q2: "It has 132 sms."}
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url)
    first, second = report.cases
    assert first.without_skill.pass_rate == 0.0
    assert first.without_skill.mean_fraction == 0.5
    assert first.without_skill.runs[0].score.missed == ["contains 'wgmma'"]
    assert second.without_skill.pass_rate == 1.0, "matching is case-insensitive"
    assert report.without_skill.pass_rate == 0.5
    assert report.lift == 0.5


def test_api_key_is_sent_as_a_bearer_token_only_when_set(
    fake_endpoint, skill: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _teach(fake_endpoint, skill)
    run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert not any("authorization" in h for h in fake_endpoint.model.headers)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert fake_endpoint.model.headers[-1]["authorization"] == "Bearer sk-test-123"


def test_base_url_defaults_to_the_environment(fake_endpoint, skill: Path, monkeypatch) -> None:
    _teach(fake_endpoint, skill)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_endpoint.base_url + "/")
    report = run_eval(skill, "m")
    assert report.base_url == fake_endpoint.base_url
    assert report.with_skill.pass_rate == 1.0


def test_unreachable_endpoint_is_a_clear_error(skill: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EndpointError, match=r"cannot reach http://127\.0\.0\.1:\d+/v1/chat/completions"):
        run_eval(skill, "m", base_url=f"http://127.0.0.1:{port}/v1", timeout_s=5)


def test_http_error_names_the_status_and_the_key_hint(fake_endpoint, skill: Path) -> None:
    fake_endpoint.model.status = 401
    with pytest.raises(EndpointError, match=r"HTTP 401 \(check \$OPENAI_API_KEY\)"):
        run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert len(fake_endpoint.model.requests) <= 4, "401 is not retried"


def test_server_error_stops_the_run_without_sending_every_request(fake_endpoint, skill: Path) -> None:
    fake_endpoint.model.status = 500
    with pytest.raises(EndpointError, match="HTTP 500"):
        run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=10, concurrency=1, backoff_s=0)
    # The failing job is tried 3 times; the worker may start one more job before the rest are dropped.
    assert 3 <= len(fake_endpoint.model.requests) <= 6


def test_transient_rate_limits_are_retried(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    fake_endpoint.model.status = 429
    fake_endpoint.model.failures_left = 2
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url, concurrency=1, backoff_s=0)
    assert report.lift == 1.0
    assert len(fake_endpoint.model.requests) == 2 * 2 + 2


def test_a_body_that_is_not_a_chat_completion_is_an_endpoint_error(fake_endpoint, skill: Path) -> None:
    fake_endpoint.model.raw_body = b'{"hello": "world"}'
    with pytest.raises(EndpointError, match=r"not a chat completion"):
        run_eval(skill, "m", base_url=fake_endpoint.base_url)


def test_missing_skill_meta_is_refused(tmp_path: Path, fake_endpoint) -> None:
    skill = _make_skill(tmp_path)
    (skill / "skill_meta.json").unlink()
    with pytest.raises(RefusedInput, match=r"no skill_meta\.json"):
        run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert fake_endpoint.model.requests == []


def test_folder_without_skill_md_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedInput, match=r"has no SKILL\.md"):
        run_eval(tmp_path, "m", base_url="http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 0}, "--runs must be between 1 and"),
        ({"base_url": "ftp://example.com/v1"}, "not an http"),
        ({"concurrency": 0}, "concurrency must be"),
        ({"retries": -1}, "--retries must be between 0 and 10"),
    ],
)
def test_bad_arguments_are_refused(skill: Path, kwargs: dict, message: str) -> None:
    kwargs.setdefault("base_url", "http://127.0.0.1:9/v1")
    with pytest.raises(RefusedInput, match=message):
        run_eval(skill, "m", **kwargs)


def test_cli_json_prints_one_report_document(fake_endpoint, skill: Path, capsys) -> None:
    _teach(fake_endpoint, skill)
    code = main(["eval", str(skill), "--model", "m", "--base-url", fake_endpoint.base_url, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert doc["lift"] == 1.0
    assert doc["references_inlined"] is False
    assert doc["cases"][0]["with_skill"]["runs"][0]["score"]["passed"] is True


def test_cli_human_output_shows_pass_rates_and_lift(fake_endpoint, skill: Path, capsys) -> None:
    _teach(fake_endpoint, skill)
    code = main(["eval", str(skill), "--model", "m", "--base-url", fake_endpoint.base_url, "--runs", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "lift +100.0 points" in out
    assert "tokens: without 60  with 60" in out


def test_cli_endpoint_failure_exits_1_with_a_json_error(fake_endpoint, skill: Path, capsys) -> None:
    fake_endpoint.model.status = 503
    argv = ["eval", str(skill), "--model", "m", "--base-url", fake_endpoint.base_url, "--retries", "0"]
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out)["error"]["type"] == "EndpointError"
    assert "HTTP 503" in captured.err


def test_a_timed_out_answer_is_counted_as_an_error_not_a_wrong_answer_and_the_eval_goes_on(
    fake_endpoint, skill: Path
) -> None:
    _teach(fake_endpoint, skill)
    fake_endpoint.model.hold = {Q2}
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url, timeout_s=0.5, retries=0, concurrency=2)
    first, second = report.cases
    assert first.with_skill.pass_rate == 1.0
    for cond in (second.without_skill, second.with_skill):
        (run,) = cond.runs
        assert run.error is not None and "did not answer in time" in run.error
        assert run.score.status == "not_judged" and not run.score.passed
        assert (cond.errors, cond.judged, cond.not_judged) == (1, 0, 0)
    assert (report.without_skill.errors, report.with_skill.errors) == (1, 1)
    # The pass rates are over the answers that came: the lost one is not a wrong answer.
    assert report.with_skill.pass_rate == 1.0 and report.with_skill.judged == 1
    assert "no answer" not in str(report.with_skill.assertions)
    assert any("2 of 4 requests got no answer" in note for note in report.notes)


def test_answers_are_written_as_they_arrive_and_resume_asks_only_what_is_missing(
    fake_endpoint, skill: Path, tmp_path: Path
) -> None:
    _teach(fake_endpoint, skill)
    first = run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=2, runs_dir=tmp_path / "runs")
    folder = Path(first.runs_dir)
    runs = sorted(folder.glob("run_*/run_result.json"))
    assert len(runs) == 2 * 2 * 2
    record = json.loads(runs[0].read_text())
    assert set(record["key"]) == {"model", "case", "condition", "run"}
    assert {"answer", "score", "usage", "latency_s"} <= set(record["result"])
    assert (folder / "batch_summary.json").is_file()
    assert (folder / "results.csv").read_text().count("\n") == 1 + 8
    for gone in runs[:3]:  # as if the eval had been killed before these answers came
        gone.unlink()
    asked_before = len(fake_endpoint.model.requests)
    resumed = run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=2, resume=folder)
    assert len(fake_endpoint.model.requests) - asked_before == 3
    assert resumed.lift == first.lift == 1.0
    assert resumed.runs_dir == str(folder)


def test_resume_with_other_settings_is_refused(fake_endpoint, skill: Path, tmp_path: Path) -> None:
    _teach(fake_endpoint, skill)
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url, runs_dir=tmp_path)
    with pytest.raises(RefusedInput, match=r"other settings \(runs differ\)"):
        run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=2, resume=Path(report.runs_dir))


def test_rejudge_scores_the_stored_answers_again_without_asking_the_model(
    fake_endpoint, skill: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _teach(fake_endpoint, skill)
    first = run_eval(skill, "m", base_url=fake_endpoint.base_url, runs=2, runs_dir=tmp_path / "runs")
    assert first.lift == 1.0
    meta = json.loads((skill / "skill_meta.json").read_text())
    meta["tests"][1]["expected"] = {"contains": ["132", "SMs", "never said"]}  # a stricter judge
    (skill / "skill_meta.json").write_text(json.dumps(meta))
    asked = len(fake_endpoint.model.requests)
    folder = Path(first.runs_dir)
    assert main(["eval", str(skill), "--rejudge", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(fake_endpoint.model.requests) == asked
    assert report["with_skill"]["pass_rate"] == 0.5 and report["wall_time_s"] == first.wall_time_s
    assert (folder / "batch_summary.prev.json").is_file() and (folder / "report.html").is_file()
    stored = [json.loads(f.read_text()) for f in folder.glob("run_*/run_result.json")]
    case1_with = [r for r in stored if r["key"]["case"] == 1 and r["key"]["condition"] == "with_skill"]
    assert len(case1_with) == 2
    assert all(r["result"]["score"]["missed"] == ["contains 'never said'"] for r in case1_with), case1_with[
        0
    ]["result"]["score"]
    meta["tests"][1]["input"] = "another question"
    (skill / "skill_meta.json").write_text(json.dumps(meta))
    with pytest.raises(RefusedInput, match="its eval asked other cases"):
        from kernel_skills.evals import rejudge_runs

        rejudge_runs(skill, folder)


def test_several_models_each_get_their_own_baseline(fake_endpoint, skill: Path) -> None:
    from kernel_skills.evals import run_batch

    _teach(fake_endpoint, skill)
    batch = run_batch(skill, ["small", "large"], base_url=fake_endpoint.base_url)
    assert [r.model for r in batch.models] == ["small", "large"]
    assert all(len(r.cases[0].without_skill.runs) == 1 for r in batch.models)
    assert sorted({req["model"] for req in fake_endpoint.model.requests}) == ["large", "small"]
    assert len(fake_endpoint.model.requests) == 2 * 2 * 2


def test_several_models_in_one_runs_folder_keep_every_answer(
    fake_endpoint, skill: Path, tmp_path: Path
) -> None:
    from kernel_skills.evals import run_batch

    _teach(fake_endpoint, skill)
    batch = run_batch(skill, ["small", "large"], base_url=fake_endpoint.base_url, runs_dir=tmp_path / "runs")
    folder = Path(batch.models[0].runs_dir or "")
    stored = [json.loads(f.read_text())["key"] for f in folder.glob("run_*/run_result.json")]
    assert len(stored) == 2 * 2 * 2
    assert sorted({k["model"] for k in stored}) == ["large", "small"]


def test_sampling_options_are_sent_only_when_set(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    run_eval(skill, "m", base_url=fake_endpoint.base_url, max_tokens=64, seed=7)
    body = fake_endpoint.model.requests[-1]
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.0, 64, 7)
    run_eval(skill, "m", base_url=fake_endpoint.base_url, temperature=None)
    assert not {"temperature", "max_tokens", "seed"} & set(fake_endpoint.model.requests[-1])


def test_progress_is_reported_per_answer_and_condition(fake_endpoint, skill: Path) -> None:
    from kernel_skills.evals import run_batch

    _teach(fake_endpoint, skill)
    seen = []
    run_batch(skill, ["m"], base_url=fake_endpoint.base_url, runs=2, on_progress=seen.append)
    assert len(seen) == 8
    assert seen[-1].done == seen[-1].total == {"without_skill": 4, "with_skill": 4}
    assert seen[-1].completion_tokens == 8 * 5


def test_token_savings_and_is_beneficial_follow_upskills_rule(fake_endpoint, skill: Path) -> None:
    _teach(fake_endpoint, skill)
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert report.token_savings == 0.0  # the fake endpoint reports the same usage for every answer
    assert report.is_beneficial, "lift 1.0 > 0.05"
    fake_endpoint.model.skill_marker = "never in the prompt"
    assert not run_eval(skill, "m", base_url=fake_endpoint.base_url).is_beneficial


def test_the_lift_is_within_noise_when_it_is_inside_two_standard_errors_of_the_run_lifts() -> None:
    from kernel_skills.evals import Totals
    from kernel_skills.evals.lift import lift_noise

    def totals(rates: list[float]) -> Totals:
        return Totals(pass_rate=sum(rates) / len(rates), mean_fraction=0, run_pass_rates=rates)

    spread, within, lift = lift_noise(totals([0.5, 0.4, 0.6]), totals([0.6, 0.3, 0.8]))
    assert within is True and spread is not None and round(lift, 3) == 0.067
    assert lift_noise(totals([0.1, 0.1, 0.2]), totals([0.6, 0.7, 0.7]))[1] is False
    assert lift_noise(totals([0.1]), totals([0.6]))[:2] == (None, None)


def test_context_files_reach_the_model_as_fenced_blocks(fake_endpoint, tmp_path: Path) -> None:
    meta = {
        "tests": [{"input": Q1, "context": {"files": {"k.cu": "int x;"}}, "expected": {"contains": "sm_90a"}}]
    }
    skill = _make_skill(tmp_path, meta=meta)
    run_eval(skill, "m", base_url=fake_endpoint.base_url)
    user = fake_endpoint.model.requests[-1]["messages"][1]["content"]
    assert user == f"{Q1}\n\nFile `k.cu`:\n```\nint x;\n```"


def test_cli_takes_an_upskill_tests_file_several_models_and_writes_the_reports(
    fake_endpoint, skill: Path, tmp_path: Path, capsys
) -> None:
    _teach(fake_endpoint, skill)
    cases = json.loads((skill / "skill_meta.json").read_text())["tests"]
    tests = tmp_path / "cases.json"
    tests.write_text(json.dumps({"cases": cases}))
    argv = ["eval", str(skill), "--model", "a", "--model", "b", "--base-url", fake_endpoint.base_url]
    argv += ["--tests", str(tests), "--runs-dir", str(tmp_path / "runs"), "--html", str(tmp_path / "r.html")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.count("overall pass rate") == 2
    assert "[a] without 1/2" in captured.err or "[a] without 2/2" in captured.err
    assert (tmp_path / "r.html").read_text().count("<h2>model ") == 2
    (folder,) = (tmp_path / "runs").iterdir()
    assert (folder / "report.html").is_file()


def test_task_cases_on_kernelbench_and_bundled_problems_are_reported_by_origin(
    fake_endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kernel_skills.bench.kernelbench import import_files
    from kernel_skills.bench.registry import PROBLEMS_DIR_ENV

    problems = tmp_path / "problems"
    kb_file = Path(__file__).parents[1] / "bench" / "kernelbench" / "files" / "19_ReLU.py"
    assert import_files([kb_file], problems).imported == 1
    monkeypatch.setenv(PROBLEMS_DIR_ENV, str(problems))
    relu = "Write a ReLU kernel for kb_19_relu."
    gelu = "Write a GELU kernel for gelu_tanh."
    meta = {
        "metadata": {"name": "demo-skill"},
        "tests": [
            {"input": relu, "expected": {"abi": "kb_19_relu"}},
            {"input": gelu, "expected": {"abi": "gelu_tanh"}},
        ],
    }
    skill = _make_skill(tmp_path, meta=meta)
    fake_endpoint.model.skill_marker = MARKER
    signature = "(const float* x, float* out, int batch_size, int dim)"
    code = f'```cuda\nextern "C" __global__ void relu{signature} {{}}\n```'
    fake_endpoint.model.transcript = {(True, relu): code, (False, relu): "no idea"}
    report = run_eval(skill, "m", base_url=fake_endpoint.base_url)
    assert [(c.problem, c.origin) for c in report.cases] == [
        ("kb_19_relu", "kernelbench"),
        ("gelu_tanh", "bundled"),
    ]
    assert set(report.by_origin) == {"kernelbench", "bundled"}
    assert report.by_origin["kernelbench"].cases == 1 and report.by_origin["kernelbench"].lift == 1.0


def test_eval_problems_dir_judges_task_cases_on_the_users_problems(
    fake_endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kernel_skills.bench import PROBLEMS_DIR_ENV, import_files

    monkeypatch.delenv(PROBLEMS_DIR_ENV, raising=False)  # restored after the test: the CLI sets it
    problems = tmp_path / "problems"
    kb_file = Path(__file__).parents[1] / "bench" / "kernelbench" / "files" / "19_ReLU.py"
    assert import_files([kb_file], problems).imported == 1
    relu = "Write a ReLU kernel for kb_19_relu."
    skill = _make_skill(
        tmp_path,
        meta={
            "metadata": {"name": "demo-skill"},
            "tests": [{"input": relu, "expected": {"abi": "kb_19_relu"}}],
        },
    )
    fake_endpoint.model.skill_marker = MARKER
    signature = "(const float* x, float* out, int batch_size, int dim)"
    code = f'```cuda\nextern "C" __global__ void relu{signature} {{}}\n```'
    fake_endpoint.model.transcript = {(True, relu): code, (False, relu): "no idea"}
    argv = ["eval", str(skill), "--model", "m", "--base-url", fake_endpoint.base_url, "--json"]
    assert main([*argv, "--runs-dir", str(tmp_path / "runs")]) == 2  # the problem is unknown without it
    assert "kb_19_relu" in "".join(capsys.readouterr())
    assert main([*argv, "--runs-dir", str(tmp_path / "runs"), "--problems-dir", str(problems)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cases"][0]["origin"] == "kernelbench"
    assert report["lift"] == 1.0
    assert main([*argv, "--problems-dir", str(tmp_path / "nowhere")]) == 2
    assert "--problems-dir" in "".join(capsys.readouterr())
