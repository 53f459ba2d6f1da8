"""The HTML report opens in headless Chromium and shows the verdict and a failure's evidence."""

from __future__ import annotations

from pathlib import Path

from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo
from tests.browser import render


def test_report_renders_verdict_and_evidence(tmp_path: Path) -> None:
    info = RunInfo("r2", "certification", "Chứng nhận I-VAN thử nghiệm", "2026-11-25T00:00:00Z")
    bundle = ReportBundle(info, tmp_path / "r2")
    bundle.add(CaseResult("CERT-ENV-01@600", "SoLuongFile", Outcome.PASSED, procedure="600"))
    bundle.add(
        CaseResult(
            "CERT-SIG-02@604",
            "form signed",
            Outcome.FAILED,
            procedure="604",
            requirement="Decree 166/2016 art. 9: every document carries its signature",
            message="gateway answered SIG-001 for TK3-TS-595.xml",
            evidence={"exchange": "POST /api/v1/dossiers -> 400 SIG-001 Thiếu chữ ký số"},
            reproduce="bhxh-harness certify --case CERT-SIG-02 --procedures 604",
        )
    )
    folder = bundle.write()
    page = render((folder / "index.html").as_uri())
    assert "Verdict: FAILED" in page.text
    assert "CERT-SIG-02@604" in page.text and "Thiếu chữ ký số" in page.text
    assert "Decree 166/2016 art. 9" in page.text
    assert page.screenshot.startswith(b"\x89PNG") and len(page.screenshot) > 5000
