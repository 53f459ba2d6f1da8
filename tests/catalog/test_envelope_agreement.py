"""The envelope and its forms name the same unit and period (``agrees_with_forms``).

An envelope for one employer carrying another employer's form (or another month's) was
accepted: nothing compared them, though RULE-101's message claimed names were "compared
after normalisation". Now each pair of catalog.yaml's ``agrees_with_forms`` is compared
(names after NFC), a mistyped path fails ``catalog check``, and ``catalog diff`` calls a
new pair breaking.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from harness.conformance import DossierChecker
from harness.dossiers.factory import DossierFactory, Tweaks
from harness.dossiers.smoke import smoke_run
from harness.errors import CatalogError
from harness.signing import TestPKI
from tests.catalog_copies import edited_copy

VERSION = "2026.1"
UNIT_CODE = "    NoiDung/ThongTinDonVi/MaSoBHXH: ThongTinDonVi/MaDonVi\n"


def _envelope(tag: str, value: str) -> Tweaks:
    def hook(root: etree._Element) -> etree._Element:
        for node in root.iter(tag):
            node.text = value
        return root

    return Tweaks(envelope_hook=hook)


@pytest.fixture(scope="module")
def tools(pki: TestPKI) -> tuple[DossierFactory, DossierChecker]:
    catalog = load_catalog(VERSION)
    return DossierFactory(catalog, pki), DossierChecker(catalog, pki.trust_store())


@pytest.mark.parametrize(
    ("tag", "value", "form_path"),
    [
        ("TenDoiTuong", "CÔNG TY TNHH KHÁC", "ThongTinDonVi/TenDonVi"),
        ("MaSoBHXH", "ZZZ9999", "ThongTinDonVi/MaDonVi"),
        ("KyKeKhai", "02/2026", "ThongTinDonVi/KyKeKhai"),
    ],
)
def test_a_form_of_another_unit_or_period_is_refused_with_env_011(
    tools: tuple[DossierFactory, DossierChecker], tag: str, value: str, form_path: str
) -> None:
    factory, checker = tools
    dossier = factory.build("600", 1, tweaks=_envelope(tag, value))
    result = checker.check(dossier.envelope)
    assert result.codes == ["ENV-011"] * len(dossier.forms), result.findings
    first = result.errors[0]
    assert first.xpath == f"{dossier.forms[0].form.file_name}:/D02-TS/{form_path}"
    assert first.context["envelope_says"] == value and first.context["form_says"] != value
    assert first.context["envelope"].endswith(f"/{tag}")


def test_names_written_decomposed_or_with_other_spacing_still_agree(
    tools: tuple[DossierFactory, DossierChecker],
) -> None:
    factory, checker = tools
    name = factory.build("600", 1).unit.ten
    spelled = "  " + unicodedata.normalize("NFD", name).replace(" ", "   ") + " "
    result = checker.check(
        factory.build("600", 1, tweaks=_envelope("TenDoiTuong", spelled)).envelope
    )
    assert result.accepted and [f.code for f in result.findings] == ["RULE-101"]


def test_a_form_with_its_own_error_is_not_also_charged_with_env_011(
    tools: tuple[DossierFactory, DossierChecker],
) -> None:
    factory, checker = tools

    def form(_code: str, root: etree._Element) -> etree._Element:
        next(root.iter("GioiTinh")).text = "2"
        return root

    def envelope(root: etree._Element) -> etree._Element:
        next(root.iter("TenDoiTuong")).text = "CÔNG TY TNHH KHÁC"
        return root

    result = checker.check(
        factory.build("600", 1, tweaks=Tweaks(form_hook=form, envelope_hook=envelope)).envelope
    )
    assert "XSD-001" in result.codes and "ENV-011" not in result.codes


def test_a_mistyped_path_fails_catalog_check(tmp_path: Path, pki: TestPKI) -> None:
    typo = UNIT_CODE.replace("ThongTinDonVi/MaDonVi", "ThongTinDonVi/MaDonV")
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [(UNIT_CODE, typo)]})
    refusals = smoke_run(load_catalog(VERSION, root=root), pki, values=False)
    assert [r.problem for r in refusals] == [
        "agrees_with_forms: 'ThongTinDonVi/MaDonV' is in none of the valid dossiers' forms"
    ]


@pytest.mark.parametrize("path", ["/ThongTinDonVi/MaDonVi", "ThongTinDonVi/MaDonVi[1]", "7x"])
def test_a_path_that_is_not_element_names_is_refused_at_load(tmp_path: Path, path: str) -> None:
    bad = UNIT_CODE.replace(": ThongTinDonVi/MaDonVi", f": {path!r}")
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [(UNIT_CODE, bad)]})
    with pytest.raises(CatalogError) as caught:
        load_catalog(VERSION, root=root)
    assert "is not a path of element names below the root" in str(caught.value)
    assert caught.value.line is not None


def test_diff_calls_a_new_agreement_breaking_and_a_dropped_one_compatible(tmp_path: Path) -> None:
    root = edited_copy(tmp_path, VERSION, {"catalog.yaml": [(UNIT_CODE, "")]})
    fewer, full = load_catalog(VERSION, root=root), load_catalog(VERSION)
    added = [c for c in diff_catalogs(fewer, full).changes if c.kind.startswith("agreement")]
    assert [(c.kind, c.breaking) for c in added] == [("agreement-added", True)]
    assert "ThongTinDonVi/MaDonVi" in added[0].detail and "ENV-011" in added[0].detail
    dropped = [c for c in diff_catalogs(full, fewer).changes if c.kind.startswith("agreement")]
    assert [(c.kind, c.breaking) for c in dropped] == [("agreement-removed", False)]
