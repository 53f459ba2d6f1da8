"""A run stopped by Ctrl-C or SIGTERM leaves a complete bundle marked interrupted, and the
dashboard lists it as interrupted, not as a run still going."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html

from harness.certification.verdict import CertificationBundle
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, verify_bundle
from harness.reporting.bundle import write_interrupted
from harness.signing import TestPKI
from mock_gateway.testing import InProcessGateway

RUN_ID = "certify-20261126T080000Z-abcdef"


def _bundle(folder: Path, kind: type[ReportBundle] = ReportBundle) -> ReportBundle:
    info = RunInfo(RUN_ID, "certification", "I-VAN certification", "2026-11-26T08:00:00+00:00")
    bundle = kind(info, folder)
    bundle.add(CaseResult("RETRY-1@600", "retries", Outcome.PASSED, procedure="600"))
    bundle.add(CaseResult("RETRY-1@601", "retries", Outcome.FAILED, procedure="601"))
    return bundle


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return data


def _mine(written: list[Path], root: Path) -> list[Path]:
    """Only this test's folders (another test's unwritten bundle may still be alive)."""
    return [folder for folder in written if root in folder.parents]


def _stop_before_the_lifecycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the demo once every dossier is submitted, before the lifecycle checks."""

    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("harness.demo._lifecycle_cases", interrupt)


def test_an_interrupted_run_gets_its_bundle_with_what_finished(tmp_path: Path) -> None:
    folder = tmp_path / RUN_ID
    bundle = _bundle(folder)
    folder.mkdir()
    (folder / "traffic.jsonl").write_text("{}\n", encoding="utf-8")  # evidence written so far

    assert _mine(write_interrupted(signal.SIGTERM), tmp_path) == [folder]

    data = _results(folder)
    assert data["verdict"] == "interrupted" and data["summary"]["total"] == 2
    assert data["interrupted"]["signal"] == "SIGTERM" and data["interrupted"]["exit_code"] == 143
    assert data["interrupted"]["verdict_so_far"] == "failed"
    assert verify_bundle(folder) == []
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    assert "traffic.jsonl" in manifest["files"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "Verdict: INTERRUPTED" in page and 'id="interrupted"' in page
    assert 'name="interrupted"' in (folder / "junit.xml").read_text(encoding="utf-8")
    assert bundle.interrupted == signal.SIGTERM


def test_a_suites_own_verdict_does_not_hide_the_interruption(tmp_path: Path) -> None:
    folder = tmp_path / RUN_ID
    bundle = _bundle(folder, CertificationBundle)  # to_dict states its own verdict
    folder.mkdir()
    assert _mine(write_interrupted(signal.SIGINT), tmp_path) == [bundle.directory]
    data = _results(folder)
    assert data["verdict"] == "interrupted" and data["interrupted"]["exit_code"] == 130


def test_only_bundles_begun_and_not_written_are_marked(tmp_path: Path) -> None:
    finished = _bundle(tmp_path / "finished")
    finished.write()
    nowhere = _bundle(tmp_path / "no-folder-yet")  # interrupted before it wrote anything
    assert _mine(write_interrupted(signal.SIGINT), tmp_path) == []
    assert _results(tmp_path / "finished")["verdict"] == "failed"
    assert not nowhere.directory.exists()


def test_a_demo_stopped_halfway_leaves_a_verifiable_interrupted_bundle(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.demo import run_demo

    _stop_before_the_lifecycle(monkeypatch)
    with pytest.raises(KeyboardInterrupt) as stopped:  # its traceback holds the run, as
        run_demo("2024.1", seed=3, out=tmp_path)  # the CLI's `except` does
    [folder] = tmp_path.iterdir()
    assert not (folder / "results.json").exists()  # what a stopped run left until now

    assert _mine(write_interrupted(signal.SIGINT), tmp_path) == [folder]
    del stopped
    data = _results(folder)
    assert data["verdict"] == "interrupted" and data["summary"]["total"] == 12  # 6 × 2 submits
    assert verify_bundle(folder) == []


def test_the_cli_marks_a_run_it_stopped(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli import main

    _stop_before_the_lifecycle(monkeypatch)
    # the CLI installs its own signal handlers: tests/conftest.py puts them back
    result = CliRunner().invoke(main, ["demo", "--catalog", "2024.1", "--out", str(tmp_path)])
    assert result.exit_code == 130
    [folder] = tmp_path.iterdir()
    assert _results(folder)["verdict"] == "interrupted"


@pytest.fixture
def gw(pki: TestPKI, tmp_path: Path) -> Iterator[InProcessGateway]:
    reports = tmp_path / "reports"
    folder = reports / RUN_ID
    bundle = _bundle(folder)  # held, as the stopped run holds it
    folder.mkdir(parents=True)
    assert _mine(write_interrupted(signal.SIGTERM), tmp_path) == [bundle.directory]
    with InProcessGateway(pki=pki, directory=tmp_path, reports_directory=str(reports)) as running:
        yield running


def test_the_runs_page_lists_an_interrupted_run_as_interrupted(gw: InProcessGateway) -> None:
    page = gw.request("GET", "/dashboard/runs", ivan="admin").body.decode()
    [row] = html.fromstring(page).xpath("//tr[@class='run']")
    assert row.get("data-verdict") == "interrupted"
    text = row.text_content()
    assert "INTERRUPTED" in text and "SIGTERM" in text and "1 / 1 / 0 / 0" in text
    assert "still running" not in text
