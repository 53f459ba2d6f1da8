"""A level with no sample is "not judged", a broken run judges none, and the report says
why requests failed, which service-level file it used and how lifecycle time is counted.

Unit tests on the verdict's parts (no locust); one short local run checks the wiring.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from lxml import etree

from harness.load.cli import load
from harness.load.finish import _lifecycle_judged
from harness.load.levels import (
    INCOMPLETE,
    NOT_JUDGED,
    Level,
    LevelResult,
    Measurements,
    evaluate,
    run_verdict,
)
from harness.load.profile import Plan, load_profile
from harness.load.result import (
    LoadBundle,
    LoadResult,
    cases,
    dossier_account,
    failure_account,
    lifecycle_note,
)
from harness.load.runner import _absolute_levels
from harness.load.stats import AGGREGATED, StepStats, read_failures
from harness.load.verdict import write_verdict
from harness.reporting import RunInfo
from harness.signing import TestPKI


def _step(name: str, requests: int = 10, failures: int = 0) -> StepStats:
    return StepStats(name, requests, failures, 1.0, 5.0, 9.0, dict.fromkeys(("p95",), 9.0))


LEVELS = [
    Level("latency.submit.p95", "latency", 800, "submit", "p95"),
    Level("latency.submit (retry).p95", "latency", 800, "submit (retry)", "p95"),
    Level("latency.ack.p95", "latency", 500, "ack", "p95"),
    Level("lifecycle.submit_to_result.p95", "lifecycle", 14400, "submit_to_result", "p95"),
]


def _healthy_but_short() -> Measurements:
    """A healthy run too short for acks, results or retries: only submit has samples."""
    return Measurements(
        steps={"submit": _step("submit"), AGGREGATED: _step(AGGREGATED)},
        latency={"submit": [12.0] * 10},
        counts={"accepted": 10},
        expected_dossiers=10.0,
    )


def _result(tmp_path: Path, results: list[LevelResult], error: str = "", **kw: Any) -> LoadResult:
    return LoadResult("run", tmp_path, results, _healthy_but_short(), cast(Any, None), error, **kw)


def _page(tmp_path: Path, verdict: str, results: list[LevelResult], **kw: Any) -> str:
    """verdict.html of a flat 10 s run with no step or history, as the run would write it."""
    plan = Plan(load_profile(), load_profile().shape("flat"), 1.0, 10.0, "open")
    kw.setdefault("facts", {})
    written = write_verdict(
        tmp_path / "verdict.html",
        title="t",
        verdict=verdict,
        results=results,
        steps=[],
        history=[],
        plan=plan,
        **kw,
    )
    return written.read_text(encoding="utf-8")


def test_a_level_without_a_sample_is_not_judged_and_says_how_to_get_it() -> None:
    results = {r.level.name: r for r in evaluate(LEVELS, _healthy_but_short())}
    assert results["latency.submit.p95"].outcome == "met"
    for name in ("latency.submit (retry).p95", "latency.ack.p95", "lifecycle.submit_to_result.p95"):
        assert results[name].outcome == NOT_JUDGED and not results[name].judged
    assert "healthy run makes none" in results["latency.submit (retry).p95"].hint
    assert "--duration" in results["latency.ack.p95"].hint
    assert "clock speed" in results["lifecycle.submit_to_result.p95"].hint
    # the healthy run passes on what it judged; with nothing judged it concludes nothing
    assert run_verdict(list(results.values())) == "PASSED"
    assert run_verdict([results["latency.ack.p95"]]) == INCOMPLETE
    assert run_verdict(list(results.values()), "locust died") == "ERROR"


def test_the_terminal_lists_not_judged_levels_apart_with_their_hints(tmp_path: Path) -> None:
    result = _result(tmp_path, evaluate(LEVELS, _healthy_but_short()))
    lines = result.summary().splitlines()
    assert result.verdict == "PASSED" and result.passed
    assert (
        lines[0] == "verdict: PASSED (1 of 1 judged service levels met; 3 not judged, listed below)"
    )
    ack = next(i for i, line in enumerate(lines) if "latency.ack.p95" in line)
    assert lines[ack].startswith("  not judged latency.ack.p95: no sample")
    assert lines[ack + 1].strip() == "no 'ack' request was made"
    assert lines[ack + 2].strip().startswith("hint: ")
    assert any(line.startswith("not judged (no sample") for line in lines)
    twice = LEVELS[2:3] * 2  # ack p95 and p99 share why: said once
    again = _result(tmp_path, evaluate(twice, _healthy_but_short())).summary().splitlines()
    assert sum("no 'ack' request was made" in line for line in again) == 1
    assert "         (as above)" in again
    assert not any(line.startswith("  missed") for line in lines)


def test_no_level_judged_is_incomplete_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = evaluate(LEVELS[1:], _healthy_but_short())
    result = _result(tmp_path, results)
    assert result.verdict == INCOMPLETE
    assert result.summary().startswith("verdict: INCOMPLETE (none of the 3 service levels")
    monkeypatch.setattr("harness.load.runner.run_load", lambda **_kw: result)
    outcome = CliRunner().invoke(load, [])
    assert outcome.exit_code == 3, outcome.output
    assert "INCOMPLETE" in outcome.output


def test_not_judged_levels_are_skipped_cases_in_results_and_junit(tmp_path: Path) -> None:
    results = evaluate(LEVELS, _healthy_but_short())
    bundle = LoadBundle(RunInfo("run", "load", "t", "now", {}), tmp_path, load_verdict="PASSED")
    for case in cases(results, "bhxh-harness load", ""):
        bundle.add(case)
    bundle.write()
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "passed"
    assert data["summary"] | {"total": 0} == {
        "passed": 1,
        "skipped": 3,
        "failed": 0,
        "error": 0,
        "total": 0,
    }
    retry = next(c for c in data["cases"] if c["case_id"] == "latency.submit (retry).p95")
    assert retry["message"].startswith("not judged: no 'submit (retry)' request was made; hint:")
    suite = etree.parse(str(tmp_path / "junit.xml")).getroot().iter("testsuite")
    assert next(suite).get("skipped") == "3"
    incomplete = LoadBundle(RunInfo("r", "load", "t", "n", {}), tmp_path, load_verdict=INCOMPLETE)
    incomplete.add(cases(results[1:2], "", "")[0])
    assert incomplete.to_dict()["verdict"] == "incomplete"


def test_an_error_says_why_and_judges_no_level_in_every_output(tmp_path: Path) -> None:
    results = evaluate(LEVELS[:1], _healthy_but_short())
    results.append(LevelResult(LEVELS[2], 900.0, False, "measured 900", "3 requests"))
    error = "the local gateway died (exit -9) 12 s into the run\nsee logs/gateway.log"
    result = _result(tmp_path, results, error)
    summary = result.summary().splitlines()
    first = summary[0]
    assert summary[1] == "  see logs/gateway.log" and "missed" not in " ".join(summary)
    assert first == (
        "verdict: ERROR (the run itself failed: the local gateway died (exit -9) 12 s into "
        "the run; no service level judged)"
    )
    assert result.failed == [] and len(result.not_judged) == 2
    outcomes = [c.outcome.value for c in cases(results, "", error)]
    assert outcomes == ["skipped", "skipped", "error"]
    page = _page(tmp_path, "ERROR", results, error=error)
    assert "MISSED" not in page and 'id="failed-levels"' not in page
    assert page.count(">not judged</td>") == 2


FAILURES_CSV = (
    "Method,Name,Error,Occurrences,First Seen,Last Seen\n"
    "POST,submit,CatchResponseError('no answer: connection refused (is the gateway running "
    "at this address?)'),53,a,b\n"
    "GET,feed,CatchResponseError('HTTP 503 SRV-001'),76,a,b\n"
    "POST,submit (retry),CatchResponseError('no answer: connection refused'),159,a,b\n"
    'POST,ack,"RuntimeError(""boom"")",1,a,b\n'
)


def test_why_requests_failed_is_read_and_shown(tmp_path: Path) -> None:
    path = tmp_path / "locust_failures.csv"
    path.write_text(FAILURES_CSV, encoding="utf-8")
    failures = read_failures(path)
    assert (failures[0].name, failures[0].count) == ("submit (retry)", 159)
    assert failures[1].error == "HTTP 503 SRV-001"  # locust's exception wrapper is gone
    text = failure_account(failures)
    assert text.startswith("289 by request and reason: 159 × submit (retry): no answer")
    assert "76 × feed: HTTP 503 SRV-001" in text and "+1 more reasons" in text
    assert failure_account([]) == "none"
    page = _page(tmp_path, "FAILED", [], facts={"failed requests": text}, failures=failures)
    assert 'id="failures"' in page and "HTTP 503 SRV-001" in page
    facts = {"dossiers": "10 scheduled", "failed requests": text, "feed messages": "4 read"}
    lines = _result(tmp_path, [], facts=facts).summary().splitlines()
    assert lines.index(f"failed requests: {text}") == lines.index("dossiers: 10 scheduled") + 1


def test_abandoned_is_defined_and_scheduled_is_rounded_once() -> None:
    text = dossier_account({"accepted": 40, "abandoned": 13}, 52.9, 50.0, "open")
    assert text.startswith("52.9 scheduled (the shape asks for 50): ")
    assert (
        "13 abandoned (given up with no acceptance or refusal: no answer or 429/502/503/504 "
        in text
    )
    assert "on all 4 attempts of the retry policy" in text


def test_the_lifecycle_note_is_added_only_when_a_lifecycle_level_is_judged(
    tmp_path: Path,
) -> None:
    judged = evaluate(LEVELS[3:], Measurements({}, lifecycle={"submit_to_result": [7650.0]}))
    assert _lifecycle_judged(judged, "")
    assert not _lifecycle_judged(judged, "broke")
    assert not _lifecycle_judged(evaluate(LEVELS[3:], _healthy_but_short()), "")
    note = lifecycle_note(900)
    assert note.startswith("simulated seconds as the I-VAN saw them: ")  # see test_fix23_clock
    assert "one real second counts 900 simulated seconds" in note
    lines = _result(tmp_path, judged, facts={"lifecycle times": note}).summary().splitlines()
    assert f"lifecycle times: {note}" in lines
    page = _page(tmp_path, "PASSED", judged, facts={"lifecycle times": note})
    assert 'id="lifecycle-note"' in page and "one real second counts 900 simulated" in page


def test_the_report_names_the_service_level_file_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.load.request import LoadRequest

    monkeypatch.chdir(tmp_path)
    request = _absolute_levels(LoadRequest(service_levels=Path("my.yaml")))
    assert request.service_levels == tmp_path / "my.yaml"
    (case,) = cases(evaluate(LEVELS[:1], _healthy_but_short()), "", "", source="/x/my.yaml")
    assert case.requirement == "/x/my.yaml latency_ms (real time per step)"


def test_a_short_local_run_with_its_own_levels(pki: TestPKI, tmp_path: Path) -> None:
    """Wiring: a not-judged retry level does not fail a healthy run, and the report names
    the file used (absolute, in reproduce too) and holds why requests failed."""
    from harness.load import run_load

    levels = tmp_path / "my.yaml"
    levels.write_text(
        'latency_ms:\n  submit: {p95: 800}\n  "submit (retry)": {p95: 800}\n', encoding="utf-8"
    )
    result = run_load(
        "local", "flat", scale=1.0, duration=8, out=tmp_path / "r", service_levels=levels
    )
    outcomes = {r.level.name: r.outcome for r in result.results}
    # the subject is judged versus not judged; whether a busy box meets 800 ms is timing
    assert outcomes["latency.submit (retry).p95"] == NOT_JUDGED
    assert outcomes["latency.submit.p95"] in ("met", "missed") and len(outcomes) == 2
    assert result.verdict == "PASSED", result.summary()
    data = json.loads((result.directory / "results.json").read_text(encoding="utf-8"))
    assert data["failures"] == [] and data["run"]["meta"]["failed requests"] == "none"
    assert data["run"]["meta"]["service levels"] == str(levels)
    for case in data["cases"]:
        assert case["requirement"].startswith(str(levels))
        assert f"--service-levels {levels}" in case["reproduce"]
