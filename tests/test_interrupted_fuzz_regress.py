"""fuzz and regress stopped by Ctrl-C or SIGTERM keep what they found: fuzz the failures
found so far (written to --found, as first seen where minimising was cut short) and its
report, regress the differences of the dossiers replayed so far; both reports are marked
interrupted, and the exit code is the signal's."""

from __future__ import annotations

import gc
import json
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.catalog import Catalog, load_catalog
from harness.conformance import CheckResult, DossierChecker
from harness.fuzz import CheckerTarget, FailureMinimised, PropertyFailed
from harness.fuzz.events import CaseExecuted, Event, FuzzInterrupted
from harness.fuzz.outcome import FuzzReport
from harness.fuzz.runner import run_fuzz
from harness.regression import RegressionResult, record, regress
from harness.reporting import verify_bundle
from harness.signing import TestPKI

CATALOG = "2026.1"


class _AcceptsEverything(DossierChecker):
    """A gateway whose validation was switched off: every mutated case breaks a property."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        return CheckResult()


@pytest.fixture
def signals() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in the test (an earlier CLI run may have left it
    ignored), and whatever the run or the CLI installs is undone afterwards."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def _stop_at(n: int, kind: type, events: list[Event]) -> Callable[[Event], None]:
    """An ``on_event`` that records events and stops the run, as Ctrl-C would, at the
    ``n``-th event of ``kind``."""

    def on_event(event: Event) -> None:
        events.append(event)
        if isinstance(event, kind) and sum(isinstance(e, kind) for e in events) == n:
            raise KeyboardInterrupt

    return on_event


def _fuzz(catalog: Catalog, pki: TestPKI, found: Path, on_event: Callable[[Event], None]) -> None:
    target = CheckerTarget(_AcceptsEverything(catalog, pki.trust_store()))
    run_fuzz(
        target, catalog, budget=400, seed=1, pki=pki, found=found, minimise=3,
        on_event=on_event,
    )  # fmt: skip


def _stopped(events: list[Event]) -> FuzzReport:
    [stop] = [e for e in events if isinstance(e, FuzzInterrupted)]
    return stop.report


def test_a_fuzz_run_stopped_midway_keeps_each_failure_found_as_first_seen(
    catalog: Catalog, pki: TestPKI, tmp_path: Path, signals: None
) -> None:
    events: list[Event] = []
    with pytest.raises(KeyboardInterrupt):
        _fuzz(catalog, pki, tmp_path / "found", _stop_at(40, CaseExecuted, events))

    report = _stopped(events)
    assert report.cases == 40 and report.failures
    kinds = {(e.failed[0].check, e.observation.case.family) for e in events if
             isinstance(e, CaseExecuted) and e.failed}  # fmt: skip
    # each distinct one, with every family it showed in (one bug under two families is one)
    assert {(f.check, family) for f in report.failures for family, _ in f.seen} == kinds
    for failure in report.failures:
        assert not failure.minimised and failure.evidence is not None
        assert failure.evidence.dossier.is_file() and failure.evidence.note.is_file()
        assert failure.evidence.dossier.parent == tmp_path / "found"


def test_a_fuzz_run_stopped_while_minimising_keeps_the_rest_unminimised(
    catalog: Catalog, pki: TestPKI, tmp_path: Path, signals: None
) -> None:
    events: list[Event] = []
    with pytest.raises(KeyboardInterrupt):
        _fuzz(catalog, pki, tmp_path / "found", _stop_at(1, FailureMinimised, events))

    report = _stopped(events)
    [done] = [e.failure for e in events if isinstance(e, FailureMinimised)]
    assert report.cases == 400 and len(report.failures) > 1
    assert report.failures[0] == done  # as minimised (if it could be)
    assert all(not f.minimised and f.evidence for f in report.failures[1:])
    found = {f.evidence.dossier for f in report.failures if f.evidence}
    assert found <= set((tmp_path / "found").glob("*.xml"))


def test_a_ctrl_c_lost_in_a_gc_callback_still_stops_the_fuzz_run(
    catalog: Catalog, pki: TestPKI, tmp_path: Path, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hypothesis runs a gc callback; Ctrl-C landing there is lost (Python would print it
    as "Exception ignored" with a traceback), and the run went on to its end. Now it stops
    before the next case, and the lost Ctrl-C is not printed."""
    lost: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: lost.append(u.exc_value))
    fired: list[bool] = []

    def ctrl_c_in_gc(_phase: str, _info: dict[str, Any]) -> None:
        gc.callbacks.remove(ctrl_c_in_gc)
        fired.append(True)
        handler = signal.getsignal(signal.SIGINT)
        assert callable(handler)
        handler(signal.SIGINT, None)  # where Ctrl-C lands: its exception cannot escape

    events: list[Event] = []

    def on_event(event: Event) -> None:
        events.append(event)
        if sum(isinstance(e, CaseExecuted) for e in events) == 10 and not fired:
            gc.callbacks.append(ctrl_c_in_gc)
            gc.collect()

    with pytest.raises(KeyboardInterrupt):
        _fuzz(catalog, pki, tmp_path / "found", on_event)
    assert fired == [True] and lost == []  # lost in the callback, and not printed
    assert _stopped(events).cases == 10  # stopped before the next case


def _invoke(args: list[str]) -> Result:
    from harness.cli import main

    return CliRunner().invoke(main, args)


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return data


def test_the_fuzz_command_stopped_midway_writes_its_report_and_its_failures(
    tmp_path: Path, pki_dir: Path, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real in-process gateway, with a property said broken for every mutated case."""
    from harness.fuzz import observe as real
    from harness.fuzz import runner

    def broken(obs: Any) -> list[PropertyFailed]:
        return [] if obs.case.family == "valid" else [PropertyFailed("rejected", obs, "said so")]

    judged: list[object] = []

    def observe(*args: Any, **kwargs: Any) -> Any:
        if len(judged) == 30:
            raise KeyboardInterrupt
        judged.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "failures", broken)
    monkeypatch.setattr(runner, "observe", observe)
    out, found = tmp_path / "out", tmp_path / "found"
    result = _invoke(["fuzz", "--budget", "100", "--out", str(out), "--found", str(found)])

    assert result.exit_code == 130, result.output
    [folder] = out.iterdir()
    assert verify_bundle(folder) == []
    data = _results(folder)
    assert data["verdict"] == "interrupted" and data["interrupted"]["verdict_so_far"] == "failed"
    assert data["run"]["meta"]["cases"] == 30
    commands = [line for c in data["cases"] for line in c["reproduce"].split("; ") if line]
    evidence = {Path(line.split()[-1]) for line in commands}  # a cell may show several
    assert evidence and evidence == set(found.glob("*.xml"))
    assert "fuzz: STOPPED: " in result.output
    assert f"partial report (interrupted): {folder / 'index.html'}" in result.stderr


def test_the_fuzz_command_stopped_before_any_case_writes_no_report(
    tmp_path: Path, pki_dir: Path, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.fuzz import runner

    def observe(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "observe", observe)
    out = tmp_path / "out"
    result = _invoke(["fuzz", "--budget", "10", "--out", str(out), "--found", str(tmp_path)])
    assert result.exit_code == 130, result.output
    assert list(out.iterdir()) == []


# -- regress -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baselines(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline ``b`` of procedure 600 on the unmodified in-process gateway."""
    root = tmp_path_factory.mktemp("baselines")
    record(gateway="inproc", catalog=CATALOG, name="b", root=root, pki=pki, procedures=("600",))
    return root


def _progress_stop(at: Callable[[int, int], bool]) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        if at(done, total):
            raise KeyboardInterrupt

    return progress


def _regress(baselines: Path, pki: TestPKI, at: Callable[[int, int], bool]) -> RegressionResult:
    kept: list[RegressionResult] = []
    with pytest.raises(KeyboardInterrupt):
        regress(
            baseline="b", root=baselines, pki=pki, release="error-code-renumbered",
            on_progress=_progress_stop(at), on_interrupted=kept.append,
        )  # fmt: skip
    [partial] = kept
    return partial


def test_a_regress_run_stopped_midway_reports_the_dossiers_replayed_so_far(
    baselines: Path, pki: TestPKI, signals: None
) -> None:
    partial = _regress(baselines, pki, lambda done, _total: done == 5)
    assert len(partial.corpus) == len(partial.run.outcomes) == 5
    kinds = {d.kind for d in partial.differences}
    assert not kinds & {"missing-dossier", "missing-message"}  # not replayed, or not read
    assert ("missing-message", "600") in partial.unjudged
    assert ("latency-p50", "600") in partial.unjudged
    assert partial.notes == [
        "the run was stopped after 5 of 37 dossiers: lifecycle messages, latency and served "
        "catalogs not judged"
    ]


def test_a_regress_run_stopped_after_its_last_submission_lists_its_differences(
    baselines: Path, pki: TestPKI, signals: None
) -> None:
    partial = _regress(baselines, pki, lambda done, total: done == total)
    assert [(d.kind, d.dossier) for d in partial.unintended] == [
        ("changed-error-code", "600/impossible-date")
    ]
    assert partial.target == "inproc[error-code-renumbered]"  # as a finished run names it


def test_the_regress_command_stopped_midway_writes_its_report_marked_interrupted(
    baselines: Path, tmp_path: Path, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "harness.regression.cli._progress", lambda: _progress_stop(lambda d, t: d == t)
    )
    args = ["regress", "--baseline", "b", "--root", str(baselines), "--out", str(tmp_path)]
    result = _invoke([*args, "--release", "error-code-renumbered"])

    assert result.exit_code == 130, result.output
    [folder] = tmp_path.iterdir()
    assert verify_bundle(folder) == []
    data = _results(folder)
    assert data["verdict"] == "interrupted" and data["interrupted"]["verdict_so_far"] == "failed"
    failed = [c["case_id"] for c in data["cases"] if c["outcome"] == "failed"]
    assert failed == ["REG-changed-error-code@600"]
    skipped = {c["case_id"] for c in data["cases"] if c["outcome"] == "skipped"}
    assert {"REG-latency-p50@600", "REG-missing-message@600"} <= skipped
    assert all(c["reproduce"].startswith("bhxh-harness regress ") for c in data["cases"])
    assert "regression: STOPPED: 1 unintended difference(s)" in result.output


def test_the_record_command_stopped_midway_writes_nothing_and_says_so(
    baselines: Path, tmp_path: Path, signals: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = {p.name: p.read_bytes() for p in (baselines / "b").iterdir()}
    monkeypatch.setattr(
        "harness.regression.cli._progress", lambda: _progress_stop(lambda d, _t: d == 3)
    )
    args = ["record", "--gateway", "inproc", "--catalog", CATALOG, "--procedure", "600"]
    result = _invoke([*args, "--root", str(baselines), "--name", "b", "--force"])

    assert result.exit_code == 130, result.output
    assert "no baseline written: 'b' is saved only once every dossier has replayed" in (
        result.stderr
    )
    assert {p.name: p.read_bytes() for p in (baselines / "b").iterdir()} == kept
