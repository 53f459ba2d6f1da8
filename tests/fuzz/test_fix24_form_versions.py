"""Fix 24: fuzz sends every form version the catalog accepts, and counts cases by version.

Dossiers were always built in each form's current version, so an older version the catalog
still accepts (what employers' software that did not update keeps sending) was never
fuzzed, and nothing said so. Now each form's version is drawn too (shrinking to the
current one), each older version gets a case right after each procedure's first, and the
report counts cases by form version: one left without a case makes the run incomplete.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from hypothesis import find

from harness.catalog import Catalog, load_catalog
from harness.catalog.loader import catalogs_dir
from harness.conformance import CheckResult, DossierChecker
from harness.errors import Finding
from harness.fuzz import CaseExecuted, CheckerTarget, FuzzReport, run_fuzz
from harness.fuzz.events import Event
from harness.fuzz.pool import pool_for
from harness.fuzz.report import report_bundle
from harness.fuzz.strategies import FuzzCase, dossier_specs
from harness.signing import TestPKI

OLDER = {"TK1-TS": "590", "D01-TS": "590"}
"""Older versions added to a copy of 2026.1, beside each form's current 595."""


def older_catalog(root: Path) -> Catalog:
    """2026.1 accepting an older version of TK1-TS and of D01-TS too (same schema)."""
    folder = root / "2026.1"
    shutil.copytree(catalogs_dir() / "2026.1", folder)
    catalog_yaml = folder / "catalog.yaml"
    text = catalog_yaml.read_text(encoding="utf-8")
    for form, version in OLDER.items():
        shutil.copy(folder / "xsd" / f"{form}-595.xsd", folder / "xsd" / f"{form}-{version}.xsd")
        current = next(line for line in text.splitlines() if f"xsd/{form}-595.xsd" in line)
        text = text.replace(current, f"{current.replace('595', version)}\n{current}")
    catalog_yaml.write_text(text, encoding="utf-8")
    return load_catalog("2026.1", root=root)


class RefusesTk1Version590(DossierChecker):
    """Refuses TK1-TS-590 files as an unknown version, like a release that dropped it."""

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> CheckResult:
        result = super().check(body, ivan=ivan, at=at)
        if b"TK1-TS-590.xml" in body:
            refused = Finding("ENV-009", "/", "phiên bản", "unknown form version")
            result.findings = [*result.findings, refused]
        return result


def _run(
    catalog: Catalog,
    pki: TestPKI,
    found: Path,
    checker: DossierChecker | None = None,
    **options: object,
) -> tuple[FuzzReport, list[FuzzCase]]:
    """A run against ``checker`` (default: the reference one), and the cases it sent."""
    sent: list[FuzzCase] = []

    def note(event: Event) -> None:
        if isinstance(event, CaseExecuted):
            sent.append(event.observation.case)

    target = CheckerTarget(checker or DossierChecker(catalog, pki.trust_store()))
    options.setdefault("minimise", 0)
    report = run_fuzz(target, catalog, pki=pki, found=found, on_event=note, **options)  # type: ignore[arg-type]
    return report, sent


def test_a_spec_draws_older_versions_and_shrinks_to_the_current_one(
    tmp_path: Path, pki: TestPKI
) -> None:
    catalog = older_catalog(tmp_path)
    specs = dossier_specs(catalog, "607")
    assert find(specs, lambda spec: True).form_versions == ()
    older = find(specs, lambda spec: bool(spec.form_versions))
    assert older.form_versions == (("TK1-TS", "590"),)
    assert str(older).endswith(" TK1-TS=590")  # the evidence note's "dossier:" line
    assert older.form_files(catalog) == ("TK1-TS-590",)
    dossier = pool_for(catalog, pki).valid(older)  # the spec alone rebuilds that dossier
    assert [f.form.file_name for f in dossier.forms] == ["TK1-TS-590.xml"]


def test_each_older_version_gets_a_case_after_each_procedure_s_first(
    tmp_path: Path, pki: TestPKI, found: Path
) -> None:
    catalog = older_catalog(tmp_path)
    procedures = list(catalog.procedures)
    report, sent = _run(catalog, pki, found, budget=len(procedures) + len(OLDER), seed=0)
    first = sent[: len(procedures)]  # as before: each procedure's widest dossier, current
    assert [case.spec.procedure for case in first] == procedures
    assert all(case.spec.optional_forms and not case.spec.form_versions for case in first)
    pinned = sent[len(procedures) :]  # then each older version, in the first procedure taking it
    assert [case.spec.form_versions for case in pinned] == [((f, v),) for f, v in OLDER.items()]
    assert {case.spec.procedure for case in pinned} == {"600"}
    assert report.ok and report.unreached == () and report.unreached_form_versions == ()
    counts = report.cases_by_form_version
    assert counts["TK1-TS-590"] == counts["D01-TS-590"] == 1
    assert set(counts) == {
        f"{code}-{v.version}" for code, form in catalog.forms.items() for v in form.versions
    }
    assert report.to_dict()["cases_by_form_version"] == counts


def test_a_version_left_without_a_case_shows_0_and_the_report_is_incomplete(
    tmp_path: Path, pki: TestPKI, found: Path
) -> None:
    catalog = older_catalog(tmp_path / "catalog")
    budget = len(catalog.procedures) + 1  # room for TK1-TS-590, not D01-TS-590
    report, _sent = _run(catalog, pki, found, budget=budget, seed=0)
    assert report.ok and report.unreached == ()
    assert report.unreached_form_versions == ("D01-TS-590",)
    folder = report_bundle(report, tmp_path / "out", {"procedures": "all"}).write()
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "incomplete"
    meta = data["run"]["meta"]
    assert meta["cases_by_form_version"]["D01-TS-590"] == 0
    assert meta["cases_by_form_version"]["TK1-TS-590"] == 1
    assert meta["unreached_form_versions"] == ["D01-TS-590"]
    [skipped] = [c for c in data["cases"] if c["outcome"] == "skipped"]
    assert skipped["case_id"] == "FUZZ-no-case-D01-TS-590@600" and skipped["procedure"] == "600"
    assert "raise --budget" in skipped["message"]
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "Verdict: INCOMPLETE" in html and "cases_by_form_version" in html
    assert "no case of form version D01-TS-590 ran" in html


def test_a_gateway_refusing_an_older_version_is_caught_with_that_version(
    tmp_path: Path, pki: TestPKI, found: Path
) -> None:
    catalog = older_catalog(tmp_path)
    checker = RefusesTk1Version590(catalog, pki.trust_store())
    report, _sent = _run(
        catalog, pki, found, checker, budget=40, seed=0, procedure=["607"], minimise=20
    )
    [failure] = [f for f in report.failures if f.check == "valid-accepted"]
    assert failure.forms == ("TK1-TS-590",) and failure.procedure == "607"
    assert failure.evidence is not None
    assert b"TK1-TS-590.xml" in failure.evidence.dossier.read_bytes()
    note = failure.evidence.note.read_text(encoding="utf-8")
    assert any(
        line.startswith("dossier: ") and line.endswith(" TK1-TS=590") for line in note.splitlines()
    )


def test_an_older_version_s_case_does_not_depend_on_the_other_procedures(
    tmp_path: Path, pki: TestPKI, found: Path
) -> None:
    catalog = older_catalog(tmp_path)

    def older_case(procedures: list[str]) -> str:
        _report, sent = _run(
            catalog, pki, found, budget=len(procedures) + 1, seed=3, procedure=procedures
        )
        case = sent[-1]  # TK1-TS's older version comes first (catalog order): in 607 both times
        assert case.spec.form_versions == (("TK1-TS", "590"),) and case.spec.procedure == "607"
        return f"{case.spec} {case.name}"

    assert older_case(["607"]) == older_case(["607", "612", "604"])
