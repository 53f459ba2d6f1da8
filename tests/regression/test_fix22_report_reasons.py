"""The report shows what an expectations file excused, each difference beside its reason
(index.html and junit.xml), and why each skipped case was skipped."""

from __future__ import annotations

import html
from pathlib import Path

from lxml import etree

from harness.regression import Baseline, regress
from harness.regression.report import report_bundle
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL

REASON = "impossible dates get their own code from this release"


def test_intended_differences_and_skip_reasons_are_in_the_report(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(
        f"expected:\n  - kind: changed-error-code\n    actual: RULE-150\n    reason: {REASON}\n",
        encoding="utf-8",
    )
    result = regress(
        baseline=reference.name, root=baselines, pki=pki, release="error-code-renumbered",
        expectations=path, thresholds=FUNCTIONAL,
    )  # fmt: skip
    assert result.ok and result.intended
    folder = report_bundle(result, tmp_path / "out").write()
    page = html.unescape((folder / "index.html").read_text(encoding="utf-8"))
    details = page.split('<section class="detail" id="REG-changed-error-code@600">', 1)[1]
    details = details.split("</section>", 1)[0]
    assert "600/impossible-date verdict" in details and "actual:   RULE-150" in details
    assert f"intended: {REASON}" in details
    assert "show-evidence" not in page
    skipped = page.split('<table id="skipped">', 1)[1]
    assert "REG-latency-p95@600" in skipped and "p95 needs 40" in skipped

    suite = etree.parse(str(folder / "junit.xml")).getroot()
    [case] = suite.findall("testcase[@name='REG-changed-error-code@600']")
    assert case.find("failure") is None
    out = case.findtext("system-out") or ""
    assert out.startswith(REASON) and "600/impossible-date" in out
    [clean] = suite.findall("testcase[@name='REG-newly-rejected@600']")
    assert clean.find("system-out") is None  # nothing excused: nothing to show
