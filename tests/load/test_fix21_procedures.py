"""The report's breakdown by procedure: each procedure of the mix, what it sent and what
became of it, adding up to the run's totals.

A QA probe who added a procedure to fixtures/load/mixes.yaml could not tell whether any of
its dossiers was sent or accepted: the report had totals only. The breakdown is recorded
by the same calls as the totals (the users' exact response times, the lifecycle log), so
these tests check both the figures of a row and that the rows add up to the totals.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner

from harness.load import DossierPool, LifecycleLog, Submitter
from harness.load.breakdown import (
    OUTCOMES,
    ProcedureFigures,
    breakdown,
    lifecycle_limits,
    total_row,
)
from harness.load.cli import load
from harness.load.ivan import (
    ABANDONED,
    ACCEPTED,
    IN_FLIGHT,
    REJECTED,
    SUBMIT,
    SUBMIT_RETRY,
)
from harness.load.levels import Level, Measurements, evaluate, load_levels
from harness.load.profile import load_profile
from harness.load.result import LoadResult
from harness.message_kinds import HANDOVER, RESULT
from harness.signing import TestPKI
from tests.load.conftest import ScriptedClient

LIMITS = {"submit_to_handover": 7200.0, "submit_to_result": 14400.0}


class Killed(BaseException):
    """What locust raises in a user it stops (gevent's GreenletExit is a BaseException)."""


def _submitter(client: ScriptedClient, pool: DossierPool, log: LifecycleLog, code: str) -> Any:
    return Submitter(
        client,
        "test-token-IVAN01",
        pool.picker({code: 1}),
        log,
        random.Random(3),
        sleep=lambda _s: None,
        stopping=lambda: False,
    )


def _sums(rows: Sequence[ProcedureFigures]) -> dict[str, int]:
    """The rows' figures added up, in the totals row's terms."""
    figures: dict[str, int] = {"sent": 0, "retries": 0, "submit requests": 0, "codes": 0}
    for row in rows:
        figures["sent"] += row.sent
        figures["retries"] += row.retries
        figures["submit requests"] += len(row.submit_ms)
        figures["codes"] += sum(row.codes.values())
        for name in OUTCOMES:
            figures[name] = figures.get(name, 0) + row.outcomes[name]
        for stage, s in row.stages.items():
            for key, value in (
                ("received", s.received),
                ("within", s.within or 0),
                ("overdue", s.overdue),
                ("waiting", s.waiting),
            ):
                figures[f"{stage} {key}"] = figures.get(f"{stage} {key}", 0) + value
    return figures


def assert_adds_up(rows: Sequence[ProcedureFigures], total: ProcedureFigures) -> None:
    """Every figure of the totals row is the sum of the procedures' (and the submit
    times are the same samples, so their percentiles agree too)."""
    assert _sums(rows) == _sums([total])
    everything = sorted(v for row in rows for v in row.submit_ms)
    assert everything == sorted(total.submit_ms)


def test_the_submitter_records_each_dossiers_procedure_with_its_outcome_and_code(
    pool: DossierPool,
) -> None:
    log = LifecycleLog()
    refused = ScriptedClient([(422, {"X-BHXH-Ma-Loi": "XSD-001"})])
    assert _submitter(refused, pool, log, "604").submit() == REJECTED
    unanswered = ScriptedClient([(503, {})] * 4)
    assert _submitter(unanswered, pool, log, "600").submit() == ABANDONED
    accepted = ScriptedClient([(503, {}), (202, {"X-Ma-Gdich": "G1"})])
    assert _submitter(accepted, pool, log, "600").submit() == ACCEPTED

    class Hanging(ScriptedClient):
        def request(self, *args: Any, **kw: Any) -> Any:
            raise Killed  # locust stops the user while the POST waits for its answer

    with pytest.raises(Killed):
        _submitter(Hanging(), pool, log, "604").submit()
    share = {code: tally.to_json() for code, tally in log.procedures.items()}
    assert share["604"]["counts"] == {REJECTED: 1, IN_FLIGHT: 1}
    assert share["604"]["codes"] == {"XSD-001": 1}
    assert share["600"]["counts"] == {ABANDONED: 1, ACCEPTED: 1, "retries": 4}
    # a 503 is a failed request, not a response time
    assert SUBMIT not in share["600"]["latency_ms"]
    assert len(share["600"]["latency_ms"][SUBMIT_RETRY]) == 1
    assert share["600"]["failed_requests"] == {SUBMIT: 2, SUBMIT_RETRY: 3}
    assert log.procedure_of == {"G1": "600"}


def _worker(clock: list[float]) -> LifecycleLog:
    """A worker process's log on a hand-moved clock, 15 simulated minutes a second."""
    return LifecycleLog(clock_speed=900.0, clock=lambda: clock[0])


def test_workers_procedures_merge_in_the_master_and_add_up_to_the_totals() -> None:
    """Two worker processes' logs, drained to the master as locust reports them: the
    breakdown of the master's summary has every procedure of the mix and adds up."""
    now = [1000.0]
    one, two = _worker(now), _worker(now)
    for i, (log, code) in enumerate([(one, "600"), (one, "600"), (two, "604"), (two, "600")]):
        log.timing(SUBMIT, 10.0 * (i + 1), code)
        log.receipt(f"G{i}", started=now[0], now=now[0] + 0.01, procedure=code)
    one.timing(SUBMIT, 50.0, "604")
    one.outcome(REJECTED, "604", "ENV-010")
    two.timing(SUBMIT, 60.0, "600")
    two.outcome(ABANDONED, "600")
    one.outcome(IN_FLIGHT, "630a")  # a procedure outside the mix is still a row
    one.message(HANDOVER, "G0", now[0] + 1)
    one.message(RESULT, "G0", now[0] + 2)
    two.message(HANDOVER, "G2", now[0] + 20)  # 18,000 simulated s: past the 7,200 s limit
    now[0] += 10  # G1 and G3 wait 9,000 simulated s for their hand-over: overdue
    master = LifecycleLog(clock_speed=900.0)
    master.merge(one.drain(), "w1")
    master.merge(two.drain(), "w2")
    summary = json.loads(json.dumps(master.summary()))  # as lifecycle.json holds it

    mix = {"600": 70.0, "601": 0.0, "604": 5.0}
    rows = breakdown(summary["procedures"], mix, LIMITS, {"601": "not in catalog 2025.1"})
    total = total_row(summary, rows, LIMITS)
    assert [r.procedure for r in rows] == ["600", "601", "604", "630a"]
    by = {r.procedure: r for r in rows}
    assert by["601"].sent == 0 and by["601"].note == "not in catalog 2025.1"
    assert (by["600"].sent, by["600"].outcomes[ACCEPTED], by["600"].outcomes[ABANDONED]) == (
        4,
        3,
        1,
    )
    assert by["604"].outcomes[REJECTED] == 1 and by["604"].top_codes() == "ENV-010 ×1"
    assert by["630a"].weight is None and by["630a"].outcomes[IN_FLIGHT] == 1
    handover = by["600"].stages["submit_to_handover"]
    assert (handover.received, handover.within, handover.overdue) == (1, 1, 2)
    assert by["604"].stages["submit_to_handover"].within == 0  # received, but too late
    assert by["600"].submit_percentile("p50") == 20.0  # nearest rank of 10, 20, 40, 60 ms
    assert_adds_up(rows, total)
    # the totals row is the levels' own figures: same samples, same overdue dossiers
    levels = load_levels()
    results = {r.level.name: r for r in evaluate(levels, _measurements(summary))}
    assert results["lifecycle.submit_to_handover.p95"].basis == (
        f"{total.stages['submit_to_handover'].received} dossiers + "
        f"{total.stages['submit_to_handover'].overdue} still waiting past 7200 s"
    )
    assert results["latency.submit.p95"].basis == f"{len(total.submit_ms)} requests"


def _measurements(summary: Mapping[str, Any]) -> Measurements:
    return Measurements(
        steps={},
        lifecycle=summary["samples"],
        counts=summary["counts"],
        pending=summary["pending"],
        latency=summary["latency_ms"],
        pending_ages=summary["pending_ages"],
    )


def test_breakdown_of_synthetic_records() -> None:
    records = {
        "600": {
            "counts": {ACCEPTED: 3, REJECTED: 3, "retries": 2},
            "codes": {"XSD-001": 1, "ENV-010": 2},
            "latency_ms": {SUBMIT: [5.0, 1.0, 3.0, 2.0, 4.0, 100.0]},
            "samples": {"submit_to_handover": [10.0, 9000.0], "submit_to_result": [20.0]},
            "pending": 1,
            "pending_ages": {"submit_to_handover": [8000.0], "submit_to_result": [8000.0]},
        }
    }
    rows = breakdown(records, {"604": 1.0, "600": 2.0}, LIMITS)
    assert [r.procedure for r in rows] == ["604", "600"]  # the mix's order
    idle, busy = rows
    assert (idle.sent, idle.weight, idle.submit_percentile("p95")) == (0, 1.0, None)
    assert busy.sent == 6 and busy.retries == 2
    assert busy.top_codes() == "ENV-010 ×2, XSD-001 ×1"
    assert busy.submit_percentile("p50") == 3.0 and busy.submit_percentile("p95") == 100.0
    handover = busy.stages["submit_to_handover"]
    assert (handover.received, handover.within, handover.overdue, handover.waiting) == (
        2,
        1,
        1,
        1,
    )
    json_row = busy.to_json()
    assert json_row["sent"] == 6 and json_row["rejected codes"] == {"ENV-010": 2, "XSD-001": 1}
    assert json_row["02/TB-TS"]["within limit"] == 1
    assert json_row["submit"] == {"requests": 6, "p50_ms": 3.0, "p95_ms": 100.0}
    no_limit = breakdown(records, {"600": 1.0}, {})[0].stages["submit_to_result"]
    assert (no_limit.received, no_limit.within, no_limit.limit) == (1, None, None)


def test_limits_are_the_strictest_lifecycle_level_of_each_stage() -> None:
    levels = [
        Level("lifecycle.submit_to_handover.p95", "lifecycle", 7200.0, "submit_to_handover", "p95"),
        Level("lifecycle.submit_to_handover.p99", "lifecycle", 3600.0, "submit_to_handover", "p99"),
        Level("lifecycle.submit_to_receipt.p99", "lifecycle", 60.0, "submit_to_receipt", "p99"),
        Level("latency.submit.p95", "latency", 800.0, "submit", "p95"),
    ]
    assert lifecycle_limits(levels) == {"submit_to_handover": 3600.0}


def test_the_terminal_lists_every_procedure_after_the_levels(tmp_path: Path) -> None:
    records = {"600": {"counts": {ACCEPTED: 2}, "latency_ms": {SUBMIT: [12.0, 14.0]}}}
    rows = breakdown(records, {"600": 70.0, "601": 10.0}, LIMITS)
    total = total_row({"counts": {ACCEPTED: 2}, "latency_ms": {SUBMIT: [12.0, 14.0]}}, rows, LIMITS)
    levels = [Level("throughput_ratio", "throughput_ratio", 0.5)]
    measured = Measurements({}, counts={ACCEPTED: 2}, expected_dossiers=2.0)
    result = LoadResult(
        "run",
        tmp_path,
        evaluate(levels, measured),
        measured,
        cast(Any, None),
        facts={"dossiers": "2 scheduled: ..."},
        procedures=rows,
        procedures_total=total,
    )
    lines = result.summary().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("by procedure"))
    assert lines[start - 1].strip().startswith("met    throughput_ratio")
    header, *table = lines[start + 1 : start + 6]
    assert "02/TB-TS within 7200 s" in header and "in flight at stop" in header
    expected = [["600", "70", "2"], ["601", "10", "0"], ["all", "—", "2"]]
    assert [line.split()[:3] for line in table[:3]] == expected
    assert table[3].startswith("dossiers: ")


def test_a_short_real_run_reports_every_procedure_of_its_mix_adding_up(
    pki: TestPKI, tmp_path: Path
) -> None:
    args = ["--gateway", "local", "--shape", "month-end", "--duration", "3", "--workers", "2"]
    outcome = CliRunner().invoke(load, [*args, "--out", str(tmp_path)])
    assert outcome.exit_code in (0, 1), outcome.output
    (folder,) = tmp_path.iterdir()
    lifecycle = json.loads((folder / "lifecycle.json").read_text(encoding="utf-8"))
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    mix = load_profile().mix("month-end")
    procedures = results["procedures"]
    assert list(procedures) == list(mix)  # every procedure of the mix, sent or not
    counts = lifecycle["counts"]
    for name in OUTCOMES:
        assert sum(p[name] for p in procedures.values()) == counts.get(name, 0), name
    sent = sum(counts.get(name, 0) for name in OUTCOMES)
    assert sent > 0 and sum(p["sent"] for p in procedures.values()) == sent
    assert sum(p["retries"] for p in procedures.values()) == counts.get("retries", 0)
    assert sum(p["submit"]["requests"] for p in procedures.values()) == len(
        lifecycle["latency_ms"][SUBMIT]
    )
    for stage, message in (("submit_to_handover", "02/TB-TS"), ("submit_to_result", "03/TB-TS")):
        received = sum(p[message]["received"] for p in procedures.values())
        assert received == len(lifecycle["samples"][stage]), stage
        waiting = sum(p[message]["still waiting"] for p in procedures.values())
        assert waiting == len(lifecycle["pending_ages"][stage]), stage
    assert set(lifecycle["procedures"]) <= set(mix)
    # the terminal and the verdict page show the same rows, the totals row last
    lines = outcome.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("by procedure"))
    rows = lines[start + 2 : start + 2 + len(mix) + 1]
    assert [line.split()[0] for line in rows] == [*mix, "all"]
    assert [int(line.split()[2]) for line in rows] == [
        *(p["sent"] for p in procedures.values()),
        sent,
    ]
    page = (folder / "verdict.html").read_text(encoding="utf-8")
    table = page.split('id="procedures"')[1].split("</table>")[0]
    assert all(f"<td>{code}</td>" in table for code in [*mix, "all"])
