"""``dossier build --period`` and ``--form-version``: the dossiers a catalog change is
about (the month a version takes effect, an older form version still accepted) can be
built from the command line, and a choice the gateway would judge under another catalog
version, or refuse, is refused with the option that builds what was meant."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.catalog import Procedure, load_catalog
from harness.cli import main
from harness.dossiers.choices import chosen_form_versions, chosen_period
from harness.envelope import read_envelope
from harness.errors import UsageError
from harness.served_catalogs import ServedCatalogs, ServedCheck
from harness.signing import TestPKI
from harness.xmlsafe import parse_xml
from tests.catalog_copies import edited_copy


def _build(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "dossier.xml"
    result = CliRunner().invoke(main, ["dossier", "build", *args, "-o", str(out)])
    return result.exit_code, result.output, out


@pytest.mark.parametrize("given", ["03/2026", "2026-03"])
def test_a_period_is_declared_and_the_gateway_accepts_it(
    tmp_path: Path, pki: TestPKI, given: str
) -> None:
    code, output, out = _build(tmp_path, "600", "--catalog", "2026.1", "--period", given)
    assert code == 0, output
    assert "gateway must answer: accepted" in output
    body = out.read_bytes()
    assert read_envelope(parse_xml(body)).ky_ke_khai == "03/2026"
    catalog, result = ServedCheck(ServedCatalogs(), pki.trust_store()).check(body)
    assert catalog.version == "2026.1" and result.accepted, result.findings


def test_a_period_another_version_governs_is_refused_naming_it(tmp_path: Path) -> None:
    code, output, out = _build(tmp_path, "600", "--catalog", "2026.1", "--period", "12/2025")
    assert code == 2 and not out.exists()
    assert "--period 12/2025 is governed by catalog 2024.1, not 2026.1" in output
    assert "pass --catalog 2024.1" in output and "Traceback" not in output


def test_an_unreadable_period_and_form_version_are_usage_errors(tmp_path: Path) -> None:
    code, output, _ = _build(tmp_path, "600", "--period", "13/2026")
    assert code == 2 and "month must be 01..12" in output and "--period" in output
    code, output, _ = _build(tmp_path, "600", "--catalog", "2026.1", "--form-version", "D02TS=505")
    assert code == 2 and "takes no form D02TS" in output and "did you mean 'D02-TS'" in output
    code, output, _ = _build(tmp_path, "600", "--catalog", "2026.1", "--form-version", "D02-TS")
    assert code == 2 and "is not FORM=VERSION" in output
    code, output, _ = _build(tmp_path, "600", "--catalog", "2026.1", "--form-version", "D02-TS=9")
    assert code == 2 and "accepts no version 9 of D02-TS" in output and "505" in output


def test_a_procedure_not_in_force_is_refused_pointing_at_the_defect() -> None:
    catalog = load_catalog("2026.1")
    late = Procedure("999", "x", ("D02-TS",), (), in_force_from="06/2026")
    with pytest.raises(UsageError) as info:
        chosen_period("03/2026", catalog, late, [catalog])
    assert "not in force in 03/2026 (in force from 06/2026)" in str(info.value)
    assert "--defect procedure-not-in-force" in (info.value.hint or "")
    assert chosen_period("07/2026", catalog, late, [catalog]) == "07/2026"


def test_an_older_form_version_still_accepted_is_built(tmp_path: Path, pki: TestPKI) -> None:
    from harness.dossiers.factory import DossierFactory

    line = '      "595": {xsd: xsd/TK1-TS-595.xsd, rules: [rules/common.sch, rules/TK1-TS.sch]}'
    older = line.replace('"595"', '"594"')
    root = edited_copy(tmp_path, "2026.1", {"catalog.yaml": [(line, f"{older}\n{line}")]})
    catalog = load_catalog("2026.1", root=root)
    procedure = catalog.procedure("607")
    assert procedure is not None
    forms = chosen_form_versions(["TK1-TS=594"], catalog, procedure)
    assert forms == {"TK1-TS": "594"}
    built = DossierFactory(catalog, pki).build("607", 0, form_versions=forms)
    names = [f.ten_file for f in read_envelope(parse_xml(built.envelope)).files]
    assert any("594" in name for name in names), names
    with pytest.raises(UsageError, match="names two versions of TK1-TS"):
        chosen_form_versions(["TK1-TS=594", "TK1-TS=595"], catalog, procedure)


def test_a_period_before_every_version_is_judged_by_the_oldest_as_the_gateway_does(
    tmp_path: Path,
) -> None:
    """The gateway judges a period before every version by the oldest; so must the check
    (it let 01/2020 under 2026.1 through, printing "gateway must answer: accepted")."""
    code, output, out = _build(tmp_path, "600", "--catalog", "2026.1", "--period", "01/2020")
    assert code == 2 and not out.exists()
    assert "--period 01/2020 is governed by catalog 2024.1, not 2026.1" in output
