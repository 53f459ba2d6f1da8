"""The load run's own page, ``verdict.html``: verdict first, then levels, then the charts.

Locust's HTML report is kept beside it (``locust.html``) for the full statistics; this page
answers the question a release manager asks before a filing deadline — did the gateway
hold, and if not, which level broke and when — with latency-over-time and throughput
charts drawn as inline SVG, so the page is one self-contained file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from harness.load.breakdown import NUMERIC_COLUMNS, TOTAL, ProcedureFigures, cells, header
from harness.load.ivan import ACK, FEED, SUBMIT
from harness.load.levels import LevelResult
from harness.load.profile import Plan
from harness.load.result import LIFECYCLE_NOTE
from harness.load.stats import AGGREGATED, HistoryRow, RequestFailure, rates
from harness.load.svg import Series, line_chart

_TEMPLATE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{{ title }} — {{ verdict }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 64rem; }
 .verdict { font-size: 2rem; font-weight: bold; padding: .5rem 1rem; display: inline-block;
            border-radius: 6px; }
 .PASSED, .passed { background: #d4f4d4; } .FAILED, .failed, .ERROR { background: #f8d0d0; }
 .INCOMPLETE, .notjudged { background: #eee; } .INTERRUPTED { background: #fde7b0; }
 table { border-collapse: collapse; margin: 1rem 0; }
 td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 tr.total td { font-weight: bold; }
 pre { background: #f6f6f6; padding: .5rem; white-space: pre-wrap; }
 figure { margin: 1rem 0; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p id="verdict" class="verdict {{ verdict }}">Verdict: {{ verdict }}</p>
{% if interrupted %}<p id="partial"><b>Partial figures:</b> {{ interrupted }}. Every figure
below, the table by procedure included, counts only what ran before the stop.</p>
{% endif %}
{% if error %}<h2>The run itself failed</h2><pre>{{ error }}</pre>
<p>No service level is judged: the figures below are what was measured before it failed.</p>
{% endif %}
{% if failed %}
<p id="failed-levels">Service levels missed:</p>
<ul>{% for r in failed %}<li><b>{{ r.level.name }}</b> ({{ r.level.describe() }}):
 {{ r.detail }}</li>{% endfor %}</ul>
{% endif %}
{% if not_judged %}
<p id="not-judged">Service levels not judged (no sample: neither met nor missed):</p>
<ul>{% for r in not_judged %}<li><b>{{ r.level.name }}</b> ({{ r.level.describe() }}):
 {{ r.detail }}{% if r.hint %}; hint: {{ r.hint }}{% endif %}</li>{% endfor %}</ul>
{% endif %}
{% if failures %}
<p id="failures">Why requests failed (locust_failures.csv, most frequent first):</p>
<ul>{% for f in failures %}<li>{{ "{:,}".format(f.count) }} × <b>{{ f.name }}</b>:
 {{ f.error }}</li>{% endfor %}</ul>
{% endif %}
<table class="facts">
{% for key, value in facts %}<tr><td>{{ key }}</td><td>{{ value }}</td></tr>{% endfor %}
</table>
{% if not interrupted %}
<h2>Service levels</h2>
<table id="levels">
<tr><th>level</th><th>threshold</th><th>measured</th><th>from</th><th>verdict</th></tr>
{% for r in results %}
<tr><td>{{ r.level.name }}</td><td>{{ r.level.describe() }}</td>
<td class="num">{{ r.measured_text }}</td>
<td>{{ r.basis or "—" }}</td>
{% if error or not r.judged %}<td class="notjudged">not judged</td>
{% else %}<td class="{{ 'passed' if r.passed else 'failed' }}">
{{- 'met' if r.passed else 'MISSED' }}</td>
{% endif %}</tr>
{% endfor %}
</table>
{% endif %}
{% if lifecycle_note %}
<p id="lifecycle-note">Lifecycle times are {{ lifecycle_note }}.</p>
{% endif %}
{% if procedures %}
<h2>By procedure{% if interrupted %} (partial: up to the stop){% endif %}</h2>
<p>Every procedure the mix weighs: its dossiers as the dossiers line counts them
(sent = accepted + rejected + abandoned + in flight at stop + waiting out Retry-After at
stop), its first submit attempts'
exact response times, and how many of its 02/TB-TS and 03/TB-TS messages came within the
stage's strictest lifecycle level (simulated s; a dossier still waiting past it at the end
is a miss). The last row is the run's totals; the rows add up to it. Per procedure in
results.json (<code>procedures</code>) and lifecycle.json.</p>
<table id="procedures">
<tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in procedures %}
<tr{% if row[0] == total %} class="total"{% endif %}>{% for cell in row %}
<td{% if loop.index0 in numeric %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% endif %}
<h2>Steps</h2>
<p>Locust's figures (response times above 1 s rounded to 100 ms); the levels above are
judged on the exact times the users recorded (lifecycle.json, latency_ms).</p>
<table id="steps">
<tr><th>step</th><th>requests</th><th>failures</th><th>req/s</th>
<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th></tr>
{% for s in steps %}
<tr><td>{{ s.name }}</td><td class="num">{{ s.requests }}</td><td class="num">{{ s.failures }}</td>
<td class="num">{{ "%.2f"|format(s.rps) }}</td>
{% for p in ("p50", "p95", "p99", "p99.9") %}
<td class="num">{{ s.percentiles[p] if s.percentiles[p] is not none else "—" }}</td>
{% endfor %}</tr>
{% endfor %}
</table>
<h2>Over time</h2>
{% for chart in charts %}<figure>{{ chart }}</figure>{% endfor %}
<p>Full statistics: <a href="locust.html">locust.html</a>,
<a href="locust_stats.csv">locust_stats.csv</a>,
<a href="locust_stats_history.csv">locust_stats_history.csv</a>,
<a href="locust_failures.csv">locust_failures.csv</a>;
lifecycle samples: <a href="lifecycle.json">lifecycle.json</a>;
every level as a case: <a href="index.html">index.html</a>.</p>
</body>
</html>
"""

_FAILURES_SHOWN = 10
"""Failure reasons the page lists (locust_failures.csv and results.json hold them all)."""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _by_name(history: Sequence[HistoryRow]) -> dict[str, list[HistoryRow]]:
    rows: dict[str, list[HistoryRow]] = {}
    for row in history:
        rows.setdefault(row.name, []).append(row)
    return rows


def charts(history: Sequence[HistoryRow], plan: Plan, results: Sequence[LevelResult]) -> list[str]:
    """Latency p95 by step, throughput against the target rate, and users over time."""
    rows = _by_name(history)
    end = max((r.elapsed for r in history), default=plan.duration)
    latency = [
        Series(
            f"{step} p95",
            [(r.elapsed, v) for r in rows.get(step, []) if (v := r.percentiles["p95"]) is not None],
        )
        for step in (SUBMIT, FEED, ACK)
    ]
    latency += [
        Series(f"level {r.level.name}", [(0.0, r.level.threshold), (end, r.level.threshold)], True)
        for r in results
        if r.level.kind == "latency" and r.level.subject == SUBMIT and r.level.percentile == "p95"
    ]
    seconds = [i * plan.duration / 200 for i in range(201)]
    submits = rates(rows.get(SUBMIT, []))
    throughput = [
        Series("accepted dossiers/s", [(t, ok - bad) for t, ok, bad in submits]),
        Series("failed submits/s", [(t, bad) for t, _ok, bad in submits]),
        Series("all req/s", [(t, ok) for t, ok, _bad in rates(rows.get(AGGREGATED, []))]),
        Series("target dossiers/s", [(t, plan.rate(t)) for t in seconds], True),
    ]
    users = [
        Series("users", [(r.elapsed, float(r.users)) for r in rows.get(AGGREGATED, [])]),
        Series("shape's users", [(t, float(plan.users(t))) for t in seconds], True),
    ]
    return [
        line_chart("Latency over time (p95 over the last 10 s, locust)", latency, y_label="ms"),
        line_chart("Throughput over time (from running totals)", throughput, y_label="per second"),
        line_chart("Users over time", users, y_label="users"),
    ]


def write_verdict(
    path: Path,
    *,
    title: str,
    verdict: str,
    results: Sequence[LevelResult],
    facts: Mapping[str, Any],
    steps: Sequence[Any],
    history: Sequence[HistoryRow],
    plan: Plan,
    error: str = "",
    procedures: Sequence[ProcedureFigures] = (),
    procedures_total: ProcedureFigures | None = None,
    failures: Sequence[RequestFailure] = (),
    interrupted: str = "",
) -> Path:
    """Write the page; returns its path. Under an ERROR no level is judged; ``failures``
    (locust's failures table) say why requests failed; ``interrupted`` labels the page of
    a stopped run as partial figures (no levels table: none was judged)."""
    rows = [cells(row) for row in procedures]
    if rows and procedures_total is not None:
        rows.append(cells(procedures_total))
    html = _ENV.from_string(_TEMPLATE).render(
        title=title,
        verdict=verdict,
        error=error,
        results=results,
        failed=[] if error else [r for r in results if r.judged and not r.passed],
        not_judged=[] if error else [r for r in results if not r.judged],
        failures=list(failures)[:_FAILURES_SHOWN],
        lifecycle_note=facts.get(LIFECYCLE_NOTE, ""),
        facts=list(facts.items()),
        steps=steps,
        charts=[Markup(c) for c in charts(history, plan, results)],  # escaped in svg.py
        procedures=rows,
        header=header(procedures_total) if procedures_total is not None else [],
        total=TOTAL,
        numeric=NUMERIC_COLUMNS,
        interrupted=interrupted,
    )
    path.write_text(html, encoding="utf-8")
    return path


__all__ = ["charts", "write_verdict"]
