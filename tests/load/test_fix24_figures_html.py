"""verdict.html shows measurements as the terminal does: no exponent, with the unit."""

from __future__ import annotations

from pathlib import Path

from harness.load.levels import Level, Measurements, evaluate
from harness.load.profile import Plan, load_profile
from harness.load.verdict import write_verdict


def test_a_missed_level_reads_in_ms_on_the_page(tmp_path: Path) -> None:
    level = Level("latency.submit.p95", "latency", 800, "submit", "p95")
    (result,) = evaluate([level], Measurements(steps={}, latency={"submit": [12032.0] * 38}))
    assert result.detail.startswith("measured 12032 ms (38 requests)")
    plan = Plan(load_profile(), load_profile().shape("flat"), 1.0, 10.0, "open")
    page = write_verdict(
        tmp_path / "verdict.html",
        title="t",
        verdict="FAILED",
        results=[result],
        facts={},
        steps=[],
        history=[],
        plan=plan,
    ).read_text(encoding="utf-8")
    assert "e+0" not in page
    assert "measured 12032 ms (38 requests)" in page
    assert '<td class="num">12032 ms</td>' in page
