"""The evidence: a failing run's bundle, its HTML in headless Chromium, the CLI and verify.

A vendor must be able to fix a fault alone from the report: verdict first, the matrix of
cases by procedure, and for each failure its requirement, the raw exchange from the
gateway's traffic log, the gateway's log lines and a command that reproduces just it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.certification import run_certification
from harness.certification.cli import certify
from harness.certification.runner import _reproduce_options
from harness.reporting import ReportBundle, verify_bundle
from harness.reporting.bundle import write_manifest
from tests.browser import render
from tests.certification.conftest import FAST, PROCEDURE

CASES = ["CERT-MSG-01", "CERT-ENV-01", "CERT-RTY-02"]


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> ReportBundle:
    out = tmp_path_factory.mktemp("failing")
    return run_certification(
        "faulty:never-acks", procedures=[PROCEDURE], cases=CASES, out=out, settings=FAST, seed=3
    )


def test_the_bundle_records_what_reproduces_the_run(failing: ReportBundle) -> None:
    data = json.loads((failing.directory / "results.json").read_text(encoding="utf-8"))
    meta = data["run"]["meta"]
    assert meta["suite version"] and meta["catalog version"] and meta["seed"] == 3
    assert meta["adapter"] == "faulty:never-acks" and meta["procedures"] == PROCEDURE
    assert {c["case_id"]: c["outcome"] for c in data["cases"]} == {
        f"CERT-ENV-01@{PROCEDURE}": "passed",
        f"CERT-MSG-01@{PROCEDURE}": "failed",
        f"CERT-RTY-02@{PROCEDURE}": "passed",
    }
    names = {p.name for p in failing.directory.iterdir()}
    assert {"index.html", "junit.xml", "results.json", "traffic.jsonl", "MANIFEST.json"} <= names
    assert verify_bundle(failing.directory) == []


def test_a_failure_carries_requirement_exchange_log_and_reproduce_line(
    failing: ReportBundle,
) -> None:
    [case] = [c for c in failing.cases if c.outcome.value == "failed"]
    assert "never acknowledged" in case.message
    assert case.requirement.startswith("DESIGN.md Gateway API")
    exchange = case.evidence["raw exchange (gateway traffic log)"]
    assert "POST /api/v1/dossiers" in exchange and "<Hoso>" in exchange
    assert "GET /api/v1/messages" in case.evidence["gateway log"]
    assert "02/TB-TS" in case.evidence["relays to the employer"]
    assert case.reproduce == (
        f"bhxh-harness certify --adapter faulty:never-acks --procedures {PROCEDURE} "
        f"--case CERT-MSG-01 --catalog {failing.info.meta['catalog version']} --seed 3 "
        f"--client-timeout 0.5 --out {failing.directory.parent}"
    )


def test_the_report_opens_in_chromium_with_verdict_and_evidence(failing: ReportBundle) -> None:
    page = render((failing.directory / "index.html").as_uri())
    assert "Verdict: FAILED" in page.text
    assert page.text.index("Verdict: FAILED") < page.text.index("Cases by procedure")
    assert f"CERT-MSG-01@{PROCEDURE}" in page.text and "never acknowledged" in page.text
    assert "POST /api/v1/dossiers" in page.text and "Reproduce:" in page.text
    assert "Decree 166" in page.text or "DESIGN.md" in page.text
    assert page.screenshot.startswith(b"\x89PNG") and len(page.screenshot) > 5000


def test_cli_certify_then_verify_and_tamper(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        certify,
        ["--adapter", "faulty:forwards-late", "--procedures", PROCEDURE, "--case", "CERT-FWD-01",
         "--client-timeout", "0.5", "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"FAILED CERT-FWD-01@{PROCEDURE}" in result.stdout
    assert "reproduce: bhxh-harness certify --adapter faulty:forwards-late" in result.stdout
    assert "--client-timeout 0.5" in result.stdout  # the run's own options travel with it
    [bundle] = tmp_path.iterdir()
    [published] = re.findall(r"^digest: ([0-9a-f]{64}) ", result.stdout, re.M)
    ok = runner.invoke(certify, ["verify", str(bundle), "--digest", published])
    assert ok.exit_code == 0 and "bundle intact against the published digest" in ok.stdout
    (bundle / "results.json").write_text("{}", encoding="utf-8")
    tampered = runner.invoke(certify, ["verify", str(bundle)])
    assert tampered.exit_code == 1 and "changed: results.json" in tampered.stdout
    write_manifest(bundle)  # a careful forger rewrites the manifest too
    assert runner.invoke(certify, ["verify", str(bundle)]).exit_code == 0
    caught = runner.invoke(certify, ["verify", str(bundle), "--digest", published])
    assert caught.exit_code == 1 and f"is not the published {published}" in caught.stdout


def test_cli_passes_the_reference_and_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--adapter", "reference", "--procedures", PROCEDURE, "--case", "CERT-ENV-02"]
    passed = runner.invoke(certify, [*args, "--out", str(tmp_path)])
    assert passed.exit_code == 0 and "verdict: PASSED" in passed.stdout, passed.output
    unknown = runner.invoke(certify, ["--adapter", "reference", "--procedures", "999"])
    assert unknown.exit_code == 2 and "procedure 999 is not in catalog" in unknown.stderr
    cased = runner.invoke(certify, ["--adapter", "reference", "--procedures", "630A"])
    assert cased.exit_code == 2 and "did you mean '630a'?" in cased.stderr
    missing = runner.invoke(certify, [])
    assert missing.exit_code == 2 and "--adapter is required" in missing.output
    bad_case = runner.invoke(certify, ["--adapter", "reference", "--case", "CERT-XYZ-99"])
    assert bad_case.exit_code == 2 and "unknown case CERT-XYZ-99" in bad_case.stderr


def test_reproduce_lines_name_the_ivan_and_hide_its_credentials() -> None:
    tokens = {"ivan": "IVAN02", "token": "s3cret", "admin_token": "adm1n"}
    words = " ".join(_reproduce_options(tokens, {"client_timeout": 2}))
    hidden = "--ivan-token '<token>' --admin-token '<token>'"
    assert words == f"--ivan IVAN02 {hidden} --client-timeout 2"
    assert _reproduce_options({}, None) == ()
