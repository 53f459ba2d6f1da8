"""Locust's CSVs in, the verdict page and its SVG charts out; locust options round-trip."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from lxml import etree

from harness.load import LocustSettings, Plan, add_arguments, load_levels, load_profile
from harness.load.levels import LevelResult
from harness.load.processes import SHAPE_STARTED
from harness.load.stats import rates, read_history, read_stats
from harness.load.svg import Series, line_chart, nice_ticks
from harness.load.verdict import write_verdict

PERCENT = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    f"{PERCENT}\n"
    "POST,submit,200,2,12,15.5,6,240,300,9.8,0.1,12,13,14,15,19,26,30,92,200,240,240\n"
    "GET,feed,40,0,3,7,1,85,4000,2.0,0.0,3,3,4,4,9,86,86,86,86,86,86\n"
    ",Aggregated,240,2,8,10,1,240,700,11.8,0.1,8,11,12,13,15,19,30,86,200,240,240\n"
)
HISTORY_HEAD = (
    f"Timestamp,User Count,Type,Name,Requests/s,Failures/s,{PERCENT},Total Request Count,"
    "Total Failure Count,Total Median Response Time,Total Average Response Time,"
    "Total Min Response Time,Total Max Response Time,Total Average Content Size\n"
)


def history_row(t: int, users: int, name: str, total: int, failed: int, p95: str) -> str:
    percentiles = ",".join([p95] * 11)
    return f"{t},{users},POST,{name},1.0,0.0,{percentiles},{total},{failed},1,1,1,1,1\n"


def test_read_stats_per_step(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats.csv"
    path.write_text(STATS, encoding="utf-8")
    steps = read_stats(path)
    assert set(steps) == {"submit", "feed", "Aggregated"}
    submit = steps["submit"]
    assert (submit.requests, submit.failures) == (200, 2)
    assert submit.percentiles == {"p50": 12.0, "p95": 26.0, "p99": 92.0, "p99.9": 200.0}
    assert steps["Aggregated"].failure_ratio == 2 / 240


def test_history_and_rates_from_running_totals(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    rows = [
        history_row(98, 0, "submit", 0, 0, "N/A"),  # the master waits for its workers
        history_row(100, 0, "submit", 0, 0, "N/A"),
        history_row(101, 5, "submit", 10, 0, "20"),
        history_row(102, 9, "submit", 30, 1, "25"),
        history_row(104, 9, "submit", 70, 1, "30"),
    ]
    path.write_text(HISTORY_HEAD + "".join(rows), encoding="utf-8")
    history = read_history(path)
    assert [r.elapsed for r in history] == [0, 1, 2, 4]
    assert history[0].percentiles["p95"] is None and history[3].percentiles["p95"] == 30
    assert rates(history, window=2.0) == [(0.5, 10.0, 0.0), (1, 15.0, 0.5), (3, 20.0, 0.0)]
    # totals that move every 2 s (workers' reports) are read over 4 s windows
    assert rates(history)[-1] == (2, 70 / 4, 1 / 4)
    assert read_history(tmp_path / "missing.csv") == []


def test_nice_ticks() -> None:
    assert nice_ticks(9.3) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(1240)[-1] >= 1240
    assert nice_ticks(0) == [0.0, 1.0]


def test_chart_is_well_formed_svg_with_escaped_labels() -> None:
    svg = line_chart(
        "p95 <submit> & ack",
        [Series("a<b", [(0, 1), (10, 3)]), Series("level", [(0, 2), (10, 2)], dashed=True)],
        y_label="ms",
    )
    root = etree.fromstring(svg.encode())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert len(root.findall(f"{ns}polyline")) == 2
    assert "p95 &lt;submit&gt; &amp; ack" in svg and "a&lt;b" in svg
    empty = line_chart("nothing yet", [Series("x", [])])
    assert "no data" in empty and etree.fromstring(empty.encode()) is not None


def test_verdict_page_names_the_missed_level(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(
        HISTORY_HEAD
        + history_row(1, 3, "submit", 5, 0, "900")
        + history_row(3, 3, "submit", 9, 0, "950"),
        encoding="utf-8",
    )
    profile = load_profile()
    plan = Plan(profile, profile.shape("month-end"), 1.0, 20.0, "open")
    level = next(x for x in load_levels() if x.name == "latency.submit.p95")
    results = [LevelResult(level, 950.0, False, "measured 950, level submit p95 ≤ 800 ms")]
    page = write_verdict(
        tmp_path / "verdict.html",
        title="t <x>",
        verdict="FAILED",
        results=results,
        facts={"gateway": "<script>alert(1)</script>"},
        steps=[],
        history=read_history(tmp_path / "h.csv"),
        plan=plan,
    )
    html = page.read_text(encoding="utf-8")
    assert 'id="failed-levels"' in html and "latency.submit.p95" in html
    assert html.count("<svg") == 3
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.index("Verdict: FAILED") < html.index("<svg")


class _LocustLikeParser:
    """Locust's parser accepts env_var and include_in_web_ui; argparse does not."""

    def __init__(self) -> None:
        self.parser = argparse.ArgumentParser()

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("env_var", None)
        kwargs.pop("include_in_web_ui", None)
        self.parser.add_argument(*args, **kwargs)


def test_settings_round_trip_through_locust_options() -> None:
    parser = _LocustLikeParser()
    add_arguments(parser)
    settings = LocustSettings(
        shape="quarter-end",
        scale=2.5,
        duration=30,
        model="closed",
        clock_speed=900.0,
        pool_dir="/tmp/p",
        feed=False,
        lifecycle_out="/tmp/l.json",
        users_max=3,
    )
    parsed = parser.parser.parse_args(settings.to_args())
    assert LocustSettings.from_options(parsed) == settings
    assert "--bhxh-tokens" not in settings.to_args()  # tokens travel in the environment
    assert LocustSettings.from_options(parser.parser.parse_args([])) == LocustSettings()


def test_progress_lines_read_the_history_locust_is_writing(tmp_path: Path) -> None:
    from harness.load.runner import _progress

    said: list[str] = []
    report = _progress(tmp_path, 60.0, said.append, tmp_path)
    report(10.2)
    history = tmp_path / "locust_stats_history.csv"
    history.write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count,"
        "Total Failure Count\n"
        "1,3,,Aggregated,1.0,0,12,0\n1,3,POST,submit,1.0,0,9,0\n"
        "2,4,,Aggregated,2.0,0,1234,5\n2,4,POST,submit,1.0,0,20,0\n",
        encoding="utf-8",
    )
    began = tmp_path / SHAPE_STARTED  # the shape's clock started 20 s ago
    began.touch()
    os.utime(began, (time.time() - 20.2, time.time() - 20.2))
    report(40.4)
    assert said == [
        "    10 s: starting locust",
        "    20 s of about 60: 4 users, 1,234 requests, 5 failed",
    ]
