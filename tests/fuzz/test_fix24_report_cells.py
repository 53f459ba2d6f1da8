"""A fuzz report says what its figures count: the cases sent and the distinct failures (as
the terminal does) beside the family@procedure cells its results are, and it shows the
cases sent by family, procedure and form version as tables, not a raw dict. Before, the
page said "63 cases: 61 passed" where the terminal said 150 cases, 2 distinct failures."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import html

from harness.catalog import Catalog
from harness.conformance import DossierChecker
from harness.fuzz import CheckerTarget, run_fuzz
from harness.fuzz.report import report_bundle
from harness.signing import TestPKI


def test_the_report_counts_cases_sent_and_cells_apart(
    catalog: Catalog, pki: TestPKI, found: Path, tmp_path: Path
) -> None:
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(target, catalog, budget=30, seed=0, pki=pki, found=found)
    folder = report_bundle(report, tmp_path / "out").write()
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    cells = data["summary"]["total"]
    assert cells != report.cases  # what made the page and the terminal disagree
    assert data["sent"] == {"cases": report.cases, "distinct_failures": 0}
    page = html.fromstring((folder / "index.html").read_bytes())
    [summary] = page.xpath("//p[@id='summary']")
    text = " ".join(summary.text_content().split())
    assert text.startswith(f"{report.cases} cases sent, 0 distinct failure(s); {cells} cells")
    titles = [" ".join(h.text_content().split()) for h in page.xpath("//h2")]
    assert {"Cases sent by procedure", "Cases sent by form version"} <= set(titles)
    [by_version] = page.xpath("//h2[.='Cases sent by form version']/following-sibling::table[1]")
    rows = {r[0].text_content(): int(r[1].text_content()) for r in by_version.xpath(".//tr")}
    assert rows == report.cases_by_form_version
