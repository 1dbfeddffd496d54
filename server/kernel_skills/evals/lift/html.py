"""The eval as a page a person would rather look at: one self-contained HTML file, no scripts.

Per model: the pass rates with and without the skill (fact and task cases apart, spread across
runs, within-noise verdict), then per case the lift and every assertion's outcome in every run
(passed, failed, not judged with the reason on hover), and each answer, escaped, folded away.
"""

from __future__ import annotations

from html import escape

from kernel_skills.evals.lift.models import CONDITIONS, BatchReport, CaseReport, EvalReport, Totals

MAX_ANSWER_CHARS = 6000
_SYMBOL = {"passed": ("✓", "pass"), "failed": ("✗", "fail"), "not_judged": ("?", "nj")}
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d232b;background:#fafbfc}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #d0d7de;padding:4px 8px;
vertical-align:top}th{background:#eef1f4;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{background:#d6f5dd;color:#145c27}.fail{background:#fde2e1;color:#8a1b16}.nj{background:#fff3c4;color:#6b5200}
.up{color:#145c27;font-weight:600}.down{color:#8a1b16;font-weight:600}.bar{display:inline-block;height:10px;
background:#2f81f7;vertical-align:middle}.bar.w{background:#8c959f}.cell{display:inline-block;width:18px;
text-align:center;border-radius:3px;margin:1px}details pre{white-space:pre-wrap;max-width:1000px;
background:#f0f2f4;padding:8px}.muted{color:#57606a}
"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _lift(x: float) -> str:
    cls = "up" if x > 0 else "down" if x < 0 else ""
    return f'<span class="{cls}">{100 * x:+.1f}</span>'


def _bar(rate: float, cls: str = "") -> str:
    return f'<span class="bar {cls}" style="width:{int(120 * rate)}px"></span> {_pct(rate)}'


def _totals_row(label: str, w: Totals, s: Totals, lift: float) -> str:
    def spread(t: Totals) -> str:
        return f" ± {100 * t.spread:.1f}" if t.spread is not None else ""

    return (
        f"<tr><td>{escape(label)}</td><td>{_bar(w.pass_rate, 'w')}{spread(w)}</td>"
        f"<td>{_bar(s.pass_rate)}{spread(s)}</td><td class=num>{_lift(lift)}</td>"
        f"<td class=num>{w.judged}/{w.answers} · {s.judged}/{s.answers}</td>"
        f"<td class=num>{w.not_judged} · {s.not_judged}</td></tr>"
    )


def _summary(r: EvalReport) -> str:
    rows = [_totals_row("all cases", r.without_skill, r.with_skill, r.lift)]
    for kind, k in r.by_kind.items():
        rows.append(_totals_row(f"{kind} cases ({k.cases})", k.without_skill, k.with_skill, k.lift))
    for origin, k in r.by_origin.items():
        label = f"task cases on {origin} problems ({k.cases})"
        rows.append(_totals_row(label, k.without_skill, k.with_skill, k.lift))
    noise = (
        "runs = 1: spread unknown"
        if r.within_noise is None
        else f"lift within noise (spread of per-run lifts {100 * (r.lift_spread or 0):.1f} points)"
        if r.within_noise
        else f"lift beyond noise (spread of per-run lifts {100 * (r.lift_spread or 0):.1f} points)"
    )
    w, s = r.without_skill, r.with_skill
    tok = (
        f"tokens without {w.usage.total_tokens} · with {s.usage.total_tokens}"
        f" · savings {_pct(r.token_savings) if r.token_savings is not None else 'n/a'}"
        if w.usage and s.usage
        else "tokens not reported"
    )
    speed = f" · {s.completion_tokens_per_s:.1f} tokens/s per answer" if s.completion_tokens_per_s else ""
    return (
        "<table><tr><th></th><th>without skill</th><th>with skill</th><th>lift (points)</th>"
        "<th>judged (without · with)</th><th>not judged</th></tr>" + "".join(rows) + "</table>"
        f"<p>{escape(noise)} · beneficial (upskill's rule): {'yes' if r.is_beneficial else 'no'} · "
        f"{escape(tok)}{escape(speed)} · wall time {r.wall_time_s:.0f} s · temperature "
        f"{r.temperature if r.temperature is not None else 'server default'}</p>"
    )


def _assertion_table(case: CaseReport) -> str:
    names = case.expected
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in CONDITIONS)
    rows = []
    for name in names:
        cells = []
        for cond in CONDITIONS:
            marks = []
            for run in getattr(case, cond).runs:
                outcome = next((a for a in run.score.assertions if a.name == name), None)
                status = outcome.status if outcome else "not_judged"
                symbol, cls = _SYMBOL[status]
                title = escape(outcome.detail if outcome else "missing", quote=True)
                marks.append(f'<span class="cell {cls}" title="{title}">{symbol}</span>')
            cells.append(f"<td>{''.join(marks)}</td>")
        rows.append(f"<tr><td><code>{escape(name)}</code></td>{''.join(cells)}</tr>")
    return f"<table><tr><th>assertion</th>{head}</tr>{''.join(rows)}</table>"


def _answers(case: CaseReport) -> str:
    parts = []
    for cond in CONDITIONS:
        for run in getattr(case, cond).runs:
            text = f"[no answer: {run.error}]" if run.error else run.answer
            cut = " [cut]" if len(text) > MAX_ANSWER_CHARS else ""
            parts.append(
                f"<details><summary>{cond.replace('_', ' ')}, run {run.run}: "
                f"{'no answer' if run.error else run.score.status}"
                f"{f', {run.latency_s:.1f} s' if run.latency_s else ''}</summary>"
                f"<pre>{escape(text[:MAX_ANSWER_CHARS])}{cut}</pre></details>"
            )
    return "".join(parts)


def _cases(r: EvalReport) -> str:
    out = [
        "<table><tr><th>#</th><th>kind</th><th>question</th><th>without</th><th>with</th><th>lift</th></tr>"
    ]
    for c in r.cases:
        q = c.input if len(c.input) <= 140 else c.input[:137] + "..."
        out.append(
            f"<tr><td class=num>{c.index}</td><td>{c.kind}</td><td>{escape(q)}</td>"
            f"<td class=num>{_pct(c.without_skill.pass_rate)}</td>"
            f"<td class=num>{_pct(c.with_skill.pass_rate)}</td>"
            f"<td class=num>{_lift(c.lift)}</td></tr>"
        )
    out.append("</table>")
    for c in r.cases:
        out.append(f"<h3>case {c.index} ({c.kind})</h3><p>{escape(c.input)}</p>")
        out.append(_assertion_table(c))
        out.append(_answers(c))
    return "".join(out)


def render_html(batch: BatchReport) -> str:
    sections = []
    for r in batch.models:
        sections.append(
            f"<h2>model {escape(r.model)}</h2><p class=muted>{escape(r.base_url)} · runs {r.runs} · "
            f"{len(r.cases)} cases</p>{_summary(r)}{_cases(r)}"
        )
    notes = "".join(f"<li>{escape(n)}</li>" for n in (batch.models[0].notes if batch.models else []))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>skill lift: {escape(batch.skill)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Skill lift: {escape(batch.skill)}</h1>"
        "<p class=muted>✓ passed · ✗ failed · ? not judged (hover for the reason); one mark per run</p>"
        f"{''.join(sections)}<ul class=muted>{notes}</ul></body></html>"
    )
