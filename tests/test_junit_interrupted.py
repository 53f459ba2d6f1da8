"""An interrupted bundle's junit.xml carries an error, so CI does not show a partial run
as passed; a finished bundle's junit.xml is unchanged. A stopped run whose cases were not
judged says so (``none``), and keeping what a stopped run found never hides the stop."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from lxml import etree

from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo
from harness.reporting.bundle import when_stopped
from harness.reporting.writers import write_junit

INFO = RunInfo("demo-20261126T080000Z-abcdef", "demo", "Demo", "2026-11-26T08:00:00+00:00")
CASES = [
    CaseResult("A@600", "a", Outcome.PASSED, procedure="600"),
    CaseResult("B@600", "b", Outcome.PASSED, procedure="600"),
]


def _bundle(folder: Path, cases: list[CaseResult]) -> ReportBundle:
    bundle = ReportBundle(INFO, folder)
    for case in cases:
        bundle.add(case)
    return bundle


def test_an_interrupted_runs_junit_fails_in_ci(tmp_path: Path) -> None:
    _bundle(tmp_path, CASES).write_interrupted(signal.SIGINT)
    suite = etree.parse(str(tmp_path / "junit.xml")).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "0", "1")
    [error] = suite.findall("testcase/error")
    assert error.getparent().get("name") == "interrupted"
    assert error.get("message", "").startswith("stopped by SIGINT after 2 case(s)")
    assert error.text == error.get("message")  # not an empty "requirement: \nreproduce: "


def test_a_finished_runs_junit_is_unchanged(tmp_path: Path) -> None:
    _bundle(tmp_path / "bundle", CASES).write()
    write_junit(tmp_path / "expected.xml", INFO, CASES)
    written = (tmp_path / "bundle" / "junit.xml").read_bytes()
    assert written == (tmp_path / "expected.xml").read_bytes()


@pytest.mark.parametrize(
    ("cases", "so_far"),
    [([], "none"), ([CaseResult("S@600", "s", Outcome.SKIPPED)], "none"), (CASES, "passed")],
)
def test_the_verdict_so_far_of_a_run_with_no_case_judged_is_none(
    tmp_path: Path, cases: list[CaseResult], so_far: str
) -> None:
    _bundle(tmp_path, cases).write_interrupted(signal.SIGTERM)
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["interrupted"]["verdict_so_far"] == so_far


def test_a_stop_first_keeps_what_the_run_found_and_an_error_does_not() -> None:
    kept: list[str] = []
    with pytest.raises(KeyboardInterrupt), when_stopped(lambda: kept.append("stop")):
        raise KeyboardInterrupt
    with pytest.raises(ValueError), when_stopped(lambda: kept.append("error")):
        raise ValueError
    assert kept == ["stop"]


def test_keeping_that_fails_does_not_hide_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    def keep() -> None:
        raise OSError("disk full")

    with pytest.raises(KeyboardInterrupt), when_stopped(keep):
        raise KeyboardInterrupt
    assert "disk full" in caplog.text
