"""A fuzz or regress report says when the run *started*: its ``started_at``, the JUnit
``timestamp`` and the time in its run id (the folder's name) all come before the first
case, not from when the report was written after the run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from harness.cli import main
from harness.regression import record
from harness.signing import TestPKI
from tests.regression.conftest import LENIENT  # outcomes only: latency on a busy box is noise


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _then_next_second() -> datetime:
    """The time now, returned once the clock is in a later second: anything stamped after
    this call carries a later second than the time it returns (waits under one second)."""
    now = datetime.now(UTC)
    while _second(datetime.now(UTC)) <= _second(now):
        time.sleep(0.02)
    return now


def _first_call_noted(original: Callable[..., Any], seen: list[datetime]) -> Callable[..., Any]:
    """``original``, noting when it was first called; the run then goes on a second later."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not seen:
            seen.append(_then_next_second())
        return original(*args, **kwargs)

    return wrapper


def _stamps(folder: Path) -> dict[str, datetime]:
    """The three start times a bundle states: results.json, junit.xml, the run id."""
    run = json.loads((folder / "results.json").read_text(encoding="utf-8"))["run"]
    junit = etree.parse(str(folder / "junit.xml")).getroot()
    run_id_time = datetime.strptime(folder.name.split("-")[1], "%Y%m%dT%H%M%SZ")
    assert run["run_id"] == folder.name
    return {
        "started_at": datetime.fromisoformat(run["started_at"]),
        "junit timestamp": datetime.fromisoformat(junit.get("timestamp")),
        "run id": run_id_time.replace(tzinfo=UTC),
    }


def _assert_started_by(folder: Path, first_case: datetime) -> None:
    late = {name: str(at) for name, at in _stamps(folder).items() if at > _second(first_case)}
    assert late == {}, f"stamped after the first case ({first_case}): {late}"


def test_a_fuzz_report_starts_before_its_first_case(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.fuzz.runner

    seen: list[datetime] = []
    observe = _first_call_noted(harness.fuzz.runner.observe, seen)
    monkeypatch.setattr(harness.fuzz.runner, "observe", observe)
    out, found = tmp_path / "out", tmp_path / "found"
    args = ["fuzz", "--budget", "2", "--procedure", "600", "--family", "valid"]
    args += ["--out", str(out), "--found", str(found)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    [folder] = list(out.glob("fuzz-*"))
    _assert_started_by(folder, seen[0])


def test_a_regress_report_starts_before_its_replay(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.regression.run

    root, out = tmp_path / "baselines", tmp_path / "out"
    record(gateway="inproc", catalog="2026.1", name="t", procedures=("600",), root=root, pki=pki)
    seen: list[datetime] = []
    replay = _first_call_noted(harness.regression.run.replay, seen)
    monkeypatch.setattr(harness.regression.run, "replay", replay)
    args = ["regress", "--baseline", "t", "--root", str(root), "--out", str(out), *LENIENT]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    [folder] = list(out.glob("regression-*"))
    _assert_started_by(folder, seen[0])


def test_the_libraries_stamp_the_start_on_their_results(tmp_path: Path, pki: TestPKI) -> None:
    """``FuzzReport`` and ``RegressionResult`` carry the start their bundles state."""
    from harness.catalog import load_catalog
    from harness.conformance import DossierChecker
    from harness.fuzz import CheckerTarget, run_fuzz
    from harness.fuzz.report import report_bundle as fuzz_bundle
    from harness.regression import regress, report_bundle

    catalog = load_catalog("2026.1")
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    before = datetime.now(UTC)
    report = run_fuzz(target, catalog, budget=2, pki=pki, found=tmp_path / "found")
    bundle = fuzz_bundle(report, tmp_path)
    assert before <= report.started_at <= datetime.now(UTC)
    assert bundle.info.started_at == report.started_at.isoformat(timespec="seconds")
    assert bundle.directory == tmp_path / report.run_id

    root = tmp_path / "baselines"
    record(gateway="inproc", catalog="2026.1", name="t", procedures=("600",), root=root, pki=pki)
    before = datetime.now(UTC)
    result = regress(baseline="t", root=root, pki=pki)
    regression = report_bundle(result, tmp_path)
    assert before <= result.started_at <= datetime.now(UTC)
    assert regression.info.started_at == result.started_at.isoformat(timespec="seconds")
    assert regression.directory == tmp_path / result.run_id
