"""A certification that ends on an error after its folder exists leaves no half folder (the
dashboard listed it as "still running?" for good, and ``certify verify`` refused it): none
when no case finished, else a bundle with what finished and what stopped the run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.certification import run_certification
from harness.certification.adapters import resolve_adapter
from harness.certification.cli import certify
from harness.certification.model import IvanAdapter, Job, Relay, RunAborted
from harness.reporting import verify_bundle
from harness.signing import TestPKI
from tests.certification.conftest import FAST


def test_input_ending_before_any_case_leaves_no_folder(tmp_path: Path, pki: TestPKI) -> None:
    args = ["--adapter", "manual", "--procedures", "600", "--out", str(tmp_path)]
    result = CliRunner().invoke(certify, args, input="")
    assert result.exit_code == 2, result.output
    assert "the operator's input ended" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _stopping_at_604(monkeypatch: pytest.MonkeyPatch) -> IvanAdapter:
    """The reference I-VAN, whose operator "leaves" when procedure 604's job comes."""
    adapter = resolve_adapter("reference")
    submit = adapter.submit

    def submit_until_604(job: Job, now: datetime) -> list[Relay]:
        if job.procedure == "604":
            raise RunAborted("the operator's input ended", hint="pipe every answer")
        return submit(job, now)

    monkeypatch.setattr(adapter, "submit", submit_until_604)
    return adapter


def test_a_run_stopped_halfway_reports_what_finished_and_why(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = _stopping_at_604(monkeypatch)
    with pytest.raises(RunAborted):
        run_certification(
            adapter, ["600", "604"], cases=["CERT-SCH-01"], out=tmp_path, settings=FAST
        )
    [folder] = tmp_path.iterdir()
    assert verify_bundle(folder) == []
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    outcomes = {c["case_id"]: (c["outcome"], c["message"]) for c in data["cases"]}
    assert outcomes["CERT-SCH-01@600"][0] == "passed"
    assert outcomes["CERT-SCH-01@604"] == (
        "skipped",
        "not run: the run stopped before it (the operator's input ended)",
    )
    assert data["verdict"] == "incomplete"  # never "passed" for a run that did not finish
    assert data["run"]["meta"]["stopped"] == "the operator's input ended"


def test_the_cli_says_where_the_partial_report_is(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = _stopping_at_604(monkeypatch)
    monkeypatch.setattr("harness.certification.adapters.resolve_adapter", lambda *_args: adapter)
    args = ["--adapter", "reference", "--procedures", "600,604", "--case", "CERT-SCH-01"]
    result = CliRunner().invoke(certify, [*args, "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 2, result.output
    [folder] = tmp_path.iterdir()
    assert f"partial report (stopped): {folder / 'index.html'}" in result.stdout
    assert "error: the operator's input ended" in result.stderr


def test_a_gateway_lost_midway_is_a_run_that_could_not_conclude(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 3, as every command says of a gateway that stopped answering during a run;
    exit 2 stays a usage problem found before any case runs."""
    from harness.certification.connection import GatewayNotAnswering
    from harness.certification.gateway import CertGateway

    adapter = resolve_adapter("reference")
    submit, advance = adapter.submit, CertGateway.advance
    seen: list[str] = []

    def submit_noting(job: Job, now: datetime) -> list[Relay]:
        seen.append(job.procedure)
        return submit(job, now)

    def advance_until_604(self: CertGateway, seconds: float) -> datetime:
        if seen[-1:] == ["604"]:  # the gateway went away during the second scenario
            raise GatewayNotAnswering("the gateway at http://x does not answer: refused")
        return advance(self, seconds)

    monkeypatch.setattr(adapter, "submit", submit_noting)
    monkeypatch.setattr(CertGateway, "advance", advance_until_604)
    monkeypatch.setattr("harness.certification.adapters.resolve_adapter", lambda *_args: adapter)
    args = ["--adapter", "reference", "--procedures", "600,604", "--case", "CERT-SCH-01"]
    result = CliRunner().invoke(certify, [*args, "--out", str(tmp_path), "--no-progress"])
    assert result.exit_code == 3, result.output
    [folder] = tmp_path.iterdir()
    assert f"partial report (stopped): {folder / 'index.html'}" in result.stdout
    assert "error: the run could not conclude: the gateway at http://x does not answer" in (
        result.stderr
    )
