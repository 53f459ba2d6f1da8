"""Every output tells the same story: terminal, results.json, JUnit and HTML agree on the
verdict, on what was not judged, and on what the expectations excused or missed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.regression import Baseline, Difference, regress, report_bundle
from harness.regression.cli import regress as regress_command
from harness.reporting import Outcome
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL, LENIENT


def test_a_whole_gateway_slowdown_fails_every_output(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    result = regress(
        baseline=reference.name, root=baselines, pki=pki, thresholds=FUNCTIONAL
    )  # fmt: skip
    slowdown = Difference("latency-p50", "all", field="median p50 ratio", actual="x6.8")
    result.unintended.append(slowdown)  # what compare_latency says of a 6.8x slower gateway
    assert not result.ok
    folder = report_bundle(result, tmp_path).write()
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "failed"
    [case] = [c for c in data["cases"] if c["case_id"] == "REG-latency-p50@all"]
    assert case["outcome"] == "failed"
    assert 'failures="1"' in (folder / "junit.xml").read_text(encoding="utf-8")


def test_p95_with_too_few_samples_is_skipped_with_the_reason(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    result = regress(baseline=reference.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)
    cases = {c.case_id: c for c in report_bundle(result, tmp_path).cases}
    p95 = cases["REG-latency-p95@600"]
    assert p95.outcome is Outcome.SKIPPED
    assert "not judged" in p95.message and "p95 needs 40" in p95.message


def test_the_terminal_lists_unused_expectations_and_the_report_shows_both(
    tmp_path: Path, pki_dir: Path
) -> None:
    from harness.regression.cli import record

    root = ["--root", str(tmp_path / "b")]
    assert CliRunner().invoke(record, ["--name", "x", "--procedure", "600", *root]).exit_code == 0
    declared = tmp_path / "release.yaml"
    declared.write_text(
        "expected:\n"
        "  - {kind: newly-rejected, procedure: '600', reason: PA code dropped on purpose}\n"
        "  - {kind: newly-accepted, reason: never happens}\n",
        encoding="utf-8",
    )
    args = ["--baseline", "x", "--release", "pa-code-removed", "--out", str(tmp_path), *root]
    args += LENIENT  # expectations are the subject; latency on a busy box is noise
    run = CliRunner().invoke(regress_command, [*args, "--expectations", str(declared)])
    assert run.exit_code == 0, run.output
    assert "unused expectation (matched nothing): newly-accepted: never happens" in run.stdout
    assert "intended x" in run.stdout and "PA code dropped on purpose" in run.stdout
    assert "replayed " in run.stderr  # progress lines
    [folder] = list(tmp_path.glob("regression-*"))
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    [case] = [c for c in data["cases"] if c["case_id"] == "REG-expectations"]
    assert "PA code dropped on purpose" in case["evidence"]["intended"]
    assert "never happens" in case["evidence"]["unused (matched nothing)"]
