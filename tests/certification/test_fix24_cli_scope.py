"""A run narrowed to some cases or procedures says so wherever its verdict shows, and does
not invite publishing its digest as the I-VAN's certification; a failed case names its
first finding (text and XPath), not only its code."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from harness.certification.cli import certify
from tests.certification.conftest import PROCEDURE


def _certify(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "reports"
    extra = ["--out", str(out), "--client-timeout", "0.5", "--no-progress"]
    result = CliRunner().invoke(certify, [*args, *extra])
    [bundle] = out.iterdir()
    return result.exit_code, result.stdout, bundle


def test_a_partial_run_says_so_and_is_not_offered_for_publishing(tmp_path: Path) -> None:
    code, stdout, bundle = _certify(tmp_path, "--adapter", "reference", "--case", "CERT-SCH-01")
    assert code == 0, stdout
    assert "verdict: PASSED (" in stdout and "skipped) — PARTIAL RUN, not a certification" in stdout
    assert "scope: partial run (1 of" in stdout
    assert "publish it" not in stdout
    results = json.loads((bundle / "results.json").read_text("utf-8"))
    assert results["scope"] == "partial"
    assert "CERT-ENV-01" in results["left_out"]["cases"]
    assert "procedures" not in results["left_out"]  # every procedure ran
    html = (bundle / "index.html").read_text("utf-8")
    assert "Verdict: PASSED (partial run)" in html and "not a certification" in html
    junit = etree.parse(str(bundle / "junit.xml"))
    [scope] = junit.xpath("//property[@name='scope']/@value")
    assert scope.startswith("partial run")


def test_a_failed_case_names_its_first_findings_text_and_xpath(tmp_path: Path) -> None:
    case = f"CERT-PKI-01@{PROCEDURE}"
    args = ["--adapter", "faulty:expired-certificate", "--case", case]
    code, stdout, bundle = _certify(tmp_path, *args)
    assert code == 1, stdout
    said = "SIG-005 Certificate not valid at signing time at /"
    assert f"FAILED {case}: 1 certificate problem(s): {said}" in stdout
    junit = etree.parse(str(bundle / "junit.xml"))
    [message] = junit.xpath("//failure/@message")
    assert said in message
