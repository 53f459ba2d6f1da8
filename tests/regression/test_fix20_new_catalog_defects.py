"""A newer catalog's defective dossiers are replayed too, what it brings names its breaking
changes, and a passed REG-new-catalog case shows its evidence in index.html.

Only the valid dossiers were sent, so a candidate accepting everything of the new
procedure passed; the one-line summary left out a changed current form version and the
breaking changes; and index.html detailed only failed cases, so a passed new-catalog case
was a single "passed" cell.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from harness.dossiers.corpus import CorpusEntry
from harness.regression import Baseline, RegressionResult, regress
from harness.regression.new_catalogs import NewCatalogRun
from harness.regression.report import report_bundle, summary_lines
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL


@pytest.fixture(scope="module")
def unchanged(reference_2024: Baseline, baselines: Path, pki: TestPKI) -> RegressionResult:
    """The reference gateway (every catalog) against a baseline of 2024.1 only."""
    return regress(baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)


def test_the_new_catalog_s_defective_dossiers_are_refused_as_expected(
    unchanged: RegressionResult,
) -> None:
    assert unchanged.ok, [str(d) for d in unchanged.unintended[:5]]
    [new] = unchanged.new_catalogs
    assert new.defective and all(e.name.startswith("2026.1/") for e in new.defective)
    assert {e.procedure for e in new.defective} == {e.procedure for e in new.entries}
    assert "2026.1/630a/blank-name" in {e.name for e in new.defective}
    total = len(new.defective)
    assert f"; {total} defective dossier(s) replayed: {total} refused as expected; " in (
        new.summary()
    )
    assert new.summary().endswith("7 valid dossier(s) replayed: 7 accepted")
    assert (
        "2026.1/630a/blank-name (expects RULE-112): refused as expected: 400 RULE-112"
        in (new.lines()["procedure 630a"])
    )


def test_a_candidate_answering_a_new_catalog_defect_otherwise_fails(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    """RULE-105 renumbered: the new catalog's impossible dates are answered otherwise."""
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
        release="error-code-renumbered",
    )  # fmt: skip
    found = [d for d in result.unintended if d.kind == "new-catalog-unexpected"]
    assert {d.dossier for d in found} >= {"2026.1/630a/impossible-date"}
    [d] = [d for d in found if d.dossier == "2026.1/630a/impossible-date"]
    assert d.expected.startswith("refused with RULE-105") and "RULE-150" in d.actual
    [new] = result.new_catalogs
    assert f"{len(found)} answered otherwise" in new.summary()
    [case] = [c for c in report_bundle(result).cases if c.case_id == "REG-new-catalog@2026.1"]
    assert case.outcome.value == "failed" and "answered otherwise, unintended" in case.message
    assert "new-catalog-unexpected" in "\n".join(summary_lines(result))


def _entry(name: str, expected: tuple[str, ...] = ()) -> CorpusEntry:
    procedure = name.split("/")[1]
    return CorpusEntry(name, procedure, None if not expected else "d", expected, b"")


def _answer(accepted: bool, *codes: str) -> dict[str, object]:
    return {"status": 202 if accepted else 400, "accepted": accepted, "codes": list(codes)}


def test_an_accepted_defect_is_unexpected_and_a_refused_valid_one_is_counted_once() -> None:
    from harness.regression.new_catalogs import unexpected

    diff = diff_catalogs(load_catalog("2024.1"), load_catalog("2026.1"))
    valid = [_entry("2026.1/630a/valid-0000"), _entry("2026.1/600/valid-0000")]
    defective = [
        _entry("2026.1/630a/blank-name", ("RULE-112",)),
        _entry("2026.1/600/blank-name", ("RULE-112",)),
        _entry("2026.1/600/bad-base64", ("ENV-008",)),
    ]
    outcomes = {
        "2026.1/630a/valid-0000": _answer(False, "XSD-001"),
        "2026.1/600/valid-0000": _answer(True),
        "2026.1/630a/blank-name": _answer(False, "XSD-001"),  # the valid one's fault
        "2026.1/600/blank-name": _answer(True),  # accepted: the candidate missed it
        "2026.1/600/bad-base64": _answer(False, "ENV-008"),
    }
    new = NewCatalogRun("2026.1", "2024.1", diff, valid, outcomes, [], defective=defective)
    [d] = unexpected("2026.1", new)
    assert (d.kind, d.dossier, d.actual) == (
        "new-catalog-unexpected", "2026.1/600/blank-name", "202 accepted",
    )  # fmt: skip
    assert "3 defective dossier(s) replayed: 1 refused as expected, 1 answered otherwise, " in (
        new.summary()
    )
    assert "1 not judged" in new.summary()


def test_the_summary_names_the_changed_current_version_and_the_breaking_changes(
    unchanged: RegressionResult,
) -> None:
    [new] = unchanged.new_catalogs
    line = new.summary()
    assert line.startswith("candidate serves 2026.1 (newer than the baseline's 2024.1): +630a")
    assert "D02-TS: current version 595 -> 505" in line
    assert (
        "2 breaking for senders: form-version-removed D02-TS-595, code-removed "
        "D02-TS/NoiDung/LaoDong/PA;" in line
    )


def test_a_passed_new_catalog_case_shows_its_evidence_in_index_html(
    unchanged: RegressionResult, tmp_path: Path
) -> None:
    folder = report_bundle(unchanged, tmp_path).write()
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert '<section class="detail" id="REG-new-catalog@2026.1">' in html
    assert "2026.1/630a/valid-0000 (M01B-HSB-505): accepted, 03/TB-TS received" in html
    assert "form-current-changed D02-TS: current version 595 -&gt; 505" in html
    assert "show-evidence" not in html  # the opt-in key itself is not shown
    # a passed case that does not opt in stays one cell, as before
    assert 'id="REG-catalog-impact"' not in html and 'id="REG-newly-rejected@600"' not in html
