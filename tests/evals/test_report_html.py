"""The HTML report, opened in a real headless browser (Debian's chromium; .ci/run installs it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kernel_skills.evals import run_batch
from kernel_skills.evals.lift import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MARKER = "Use the skill."
QUESTION = "Which target do wgmma kernels need? <script>alert(1)</script>"
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def batch(fake_endpoint, tmp_path: Path):  # type: ignore[no-untyped-def]
    skill = tmp_path / "demo"
    skill.mkdir()
    (skill / "SKILL.md").write_text(f"---\nname: demo\ndescription: d\n---\n{MARKER}\n", encoding="utf-8")
    cases = [
        {"input": QUESTION, "expected": {"words": ["sm_90a"], "not_contains": ["sm_80"]}},
        {"input": "Write k.", "expected": {"compiles": True, "kernel": "k"}},
    ]
    (skill / "skill_meta.json").write_text(json.dumps({"tests": cases}), encoding="utf-8")
    fake_endpoint.model.skill_marker = MARKER
    fake_endpoint.model.answers = {QUESTION: ["sm_90a"]}
    fake_endpoint.model.without_skill_answer = {"Write k.": '```cuda\nextern "C" __global__ void k() {}\n```'}
    return run_batch(skill, ["m1", "m2"], base_url=fake_endpoint.base_url, runs=2)


def test_the_report_escapes_model_and_case_text(batch) -> None:  # type: ignore[no-untyped-def]
    html = render_html(batch)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<h2>model ") == 2
    assert 'class="cell pass"' in html and 'class="cell fail"' in html


NO_CHROMIUM = "chromium is not installed (.ci/run installs it: apt-get install chromium)"


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_report_renders_in_headless_chromium_with_a_screenshot(batch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "report.html"
    page.write_text(render_html(batch), encoding="utf-8")
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    common = [CHROMIUM, *HEADLESS, f"--user-data-dir={profile}"]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert dom.count("<h2>model ") == 2, "the browser parsed both model sections"
    assert "without skill" in dom and "✓" in dom
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, "a rendered page, not a blank one"
