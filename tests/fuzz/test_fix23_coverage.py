"""Fix 23: a fuzz run reaches every procedure before repeating one, and says which it did not.

QA found ``bhxh-harness fuzz --budget 200 --catalog 2026.1`` PASSED while whole procedures
got no case (seed 2: 601 and 610), and nothing in results.json or index.html said so. Now
procedures take turns, each first with its widest dossier (every form version it takes);
a budget too small for all of them leaves the run incomplete, naming those without a case.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.catalog import Catalog, load_catalog
from harness.conformance import DossierChecker
from harness.fuzz import CaseExecuted, CheckerTarget, FuzzReport, run_fuzz
from harness.fuzz.events import Event
from harness.fuzz.pool import pool_for
from harness.fuzz.report import report_bundle
from harness.fuzz.strategies import FuzzCase, applicable
from harness.signing import TestPKI

CATALOG = "2026.1"
INCOMPLETE = "incomplete"
NO_CASE = "FUZZ-no-case"  # the cell of a procedure that got no case


def _run(
    catalog: Catalog, pki: TestPKI, found: Path, **options: object
) -> tuple[FuzzReport, list[FuzzCase]]:
    """A run against the reference checker, and the cases it sent, in order."""
    sent: list[FuzzCase] = []

    def note(event: Event) -> None:
        if isinstance(event, CaseExecuted):
            sent.append(event.observation.case)

    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    report = run_fuzz(
        target,
        catalog,
        pki=pki,
        found=found,
        minimise=0,
        on_event=note,
        **options,  # type: ignore[arg-type]
    )
    return report, sent


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_procedure_gets_its_share_of_the_default_budget(
    seed: int, pki: TestPKI, found: Path
) -> None:
    catalog = load_catalog(CATALOG)
    report, sent = _run(catalog, pki, found, budget=200, seed=seed)
    counts = Counter(case.spec.procedure for case in sent)
    procedures = list(catalog.procedures)
    assert set(counts) == set(procedures), counts  # seed 2 sent 601 and 610 nothing
    fair = 200 // len(procedures)
    assert all(fair - 2 <= n <= fair + 2 for n in counts.values()), counts
    assert report.cases_by_procedure == {p: counts[p] for p in procedures}
    assert report.unreached == ()


def test_each_procedure_gets_a_case_before_any_gets_a_second(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    _report, sent = _run(catalog, pki, found, budget=40, seed=5)
    first = sent[: len(catalog.procedures)]
    assert [case.spec.procedure for case in first] == list(catalog.procedures)
    for case in first:  # its widest dossier: every form version the procedure takes
        assert case.spec.optional_forms, case


def test_a_body_is_sent_once(catalog: Catalog, pki: TestPKI, found: Path) -> None:
    _report, sent = _run(catalog, pki, found, budget=120, seed=0)
    assert len(sent) == 120
    repeated = [b for b, n in Counter(case.body for case in sent).items() if n > 1]
    assert not repeated, [c for c in sent if c.body in repeated][:3]


def test_the_same_seed_sends_the_same_cases_in_the_same_order(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    def drawn(seed: int) -> list[tuple[str, str, str]]:
        _report, sent = _run(catalog, pki, found, budget=60, seed=seed)
        return [(c.spec.procedure, str(c.spec), c.name) for c in sent]

    assert drawn(7) == drawn(7)
    assert drawn(7) != drawn(8)


def test_a_family_of_some_procedures_takes_turns_over_those_only(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    where = applicable(catalog, ["wage"], pool_for(catalog, pki))["wage"]
    assert 1 < len(where) < len(catalog.procedures)  # the test needs such a family
    report, sent = _run(catalog, pki, found, budget=30, seed=0, families=["wage"], valid=False)
    assert report.procedures == tuple(where) and report.unreached == ()
    assert {case.spec.procedure for case in sent} == set(where)
    assert {case.family for case in sent} == {"wage"}


def test_a_budget_too_small_for_every_procedure_names_those_without_a_case(
    catalog: Catalog, pki: TestPKI, found: Path
) -> None:
    procedures = list(catalog.procedures)
    budget = len(procedures) - 2
    report, sent = _run(catalog, pki, found, budget=budget, seed=0)
    assert [case.spec.procedure for case in sent] == procedures[:budget]
    assert report.unreached == tuple(procedures[budget:]) and report.ok
    assert report.to_dict()["unreached_procedures"] == procedures[budget:]
    assert report.to_dict()["cases_by_procedure"] == {
        p: int(p in procedures[:budget]) for p in procedures
    }


def test_the_report_of_a_run_that_missed_a_procedure_is_incomplete(
    catalog: Catalog, pki: TestPKI, found: Path, tmp_path: Path
) -> None:
    procedures = list(catalog.procedures)
    report, _sent = _run(catalog, pki, found, budget=len(procedures) - 1, seed=0)
    missed = procedures[-1]
    folder = report_bundle(report, tmp_path, {"procedures": "all"}).write()
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == INCOMPLETE
    meta = data["run"]["meta"]
    assert meta["unreached_procedures"] == [missed]
    assert meta["cases_by_procedure"] == {p: int(p != missed) for p in procedures}
    [skipped] = [c for c in data["cases"] if c["outcome"] == "skipped"]
    assert skipped["case_id"] == f"{NO_CASE}@{missed}" and skipped["procedure"] == missed
    assert "raise --budget" in skipped["message"]
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "Verdict: INCOMPLETE" in html and f"no case of procedure {missed} ran" in html
    junit = (folder / "junit.xml").read_text(encoding="utf-8")
    assert f"{NO_CASE}@{missed}" in junit and "skipped" in junit


def test_the_report_of_a_run_whose_family_got_no_case_is_incomplete(
    catalog: Catalog, pki: TestPKI, found: Path, tmp_path: Path
) -> None:
    report, _sent = _run(catalog, pki, found, budget=len(catalog.procedures), seed=0)
    assert report.unreached == () and report.ok
    report.family_plan = ("valid",)  # as a --family valid run plans it: nothing left unrun
    passed = report_bundle(report, tmp_path / "a", {"unrun_families": []}).to_dict()
    assert passed["verdict"] == "passed"
    unrun = report_bundle(report, tmp_path / "b", {"unrun_families": ["wage"]}).to_dict()
    assert unrun["verdict"] == INCOMPLETE  # the CLI's INCOMPLETE, in the report too


def test_a_failed_run_stays_failed_whatever_it_missed(
    catalog: Catalog, pki: TestPKI, found: Path, tmp_path: Path
) -> None:
    from tests.fuzz.conftest import AcceptsEverything

    target = CheckerTarget(AcceptsEverything(catalog, pki.trust_store()))
    report = run_fuzz(
        target, catalog, budget=len(catalog.procedures) + 3, seed=0, families=["facet"],
        valid=False, pki=pki, found=found, minimise=0,
    )  # fmt: skip
    assert not report.ok
    bundle = report_bundle(report, tmp_path, {"unrun_families": []})
    assert bundle.to_dict()["verdict"] == "failed"
