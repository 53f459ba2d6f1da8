"""Factories build XSD- and rule-valid signed dossiers for every procedure of every catalog
version, reproducibly; each named defect fails with exactly the code that names it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from harness.catalog import list_versions, load_catalog
from harness.conformance import DossierChecker
from harness.dossiers.defects import applies, build_defective, load_defects
from harness.dossiers.factory import DossierFactory, Tweaks
from harness.envelope import read_envelope
from harness.errors import FactoryError
from harness.fuzz.pool import pin_signing_time
from harness.signing import TestPKI

CASES = [(v, p) for v in list_versions() for p in load_catalog(v).procedures]


@cache
def _tools(version: str, pki: TestPKI) -> tuple[DossierFactory, DossierChecker]:
    factory = DossierFactory(load_catalog(version), pki)
    return factory, DossierChecker(factory.catalog, pki.trust_store())


@pytest.mark.parametrize(("version", "procedure"), CASES)
def test_valid_dossier_for_every_procedure_and_version(
    version: str, procedure: str, pki: TestPKI
) -> None:
    factory, checker = _tools(version, pki)

    @settings(max_examples=8)
    @given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 4))
    def check(seed: int, rows: int) -> None:
        dossier = factory.build(procedure, seed, rows=rows)
        result = checker.check(dossier.envelope)
        assert result.accepted, [str(f) for f in result.errors]
        assert result.envelope is not None and result.envelope.ma_thu_tuc == procedure

    check()


@pytest.mark.parametrize("version", list_versions())
def test_forty_consecutive_seeds_are_valid_for_every_procedure(version: str, pki: TestPKI) -> None:
    """A sweep, beside the property test, so rare seeds (a region mismatch) cannot hide."""
    factory, checker = _tools(version, pki)
    for procedure in factory.catalog.procedures:
        for seed in range(40):
            result = checker.check(factory.build(procedure, seed, rows=2).envelope)
            assert result.accepted, (procedure, seed, [str(f) for f in result.errors])


def test_same_seed_same_content(pki: TestPKI) -> None:
    factory, _ = _tools("2026.1", pki)
    a, b = factory.build("600", 7), factory.build("600", 7)
    # signatures carry the signing time; everything the employer typed is identical
    assert [f.form.file_name for f in a.forms] == [f.form.file_name for f in b.forms]
    strip = etree.XSLT(
        etree.XML(
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xsl:template match="@*|node()">'
            '<xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>'
            '<xsl:template match="ds:Signature"/></xsl:stylesheet>'
        )
    )
    for fa, fb in zip(a.forms, b.forms, strict=True):
        assert str(strip(etree.fromstring(fa.content))) == str(strip(etree.fromstring(fb.content)))
    assert factory.build("600", 8).unit != a.unit


def test_names_are_vietnamese_nfc_with_diacritics(pki: TestPKI) -> None:
    factory, _ = _tools("2024.1", pki)
    dossier = factory.build("600", 3, rows=5)
    names = [n.text or "" for n in etree.fromstring(dossier.forms[0].content).iter("HoTen")]
    assert len(names) == 5
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert any(any(ord(ch) > 127 for ch in n) for n in names)


def test_post_reform_periods_use_wards_without_districts(pki: TestPKI) -> None:
    factory, checker = _tools("2026.1", pki)
    dossier = factory.build("610", 5)
    form = etree.fromstring(dossier.forms[0].content)
    assert form.findtext(".//Mahuyen_HK") == ""
    assert checker.check(dossier.envelope).accepted


PERIODS = ("2026-01", "01/2026")


def test_an_iso_period_is_written_as_the_forms_write_it(pki: TestPKI) -> None:
    """``period="2026-01"`` was written verbatim: a dossier called valid that the gateway
    refused (KyKeKhai is MM/yyyy)."""
    factory, checker = _tools("2026.1", pki)
    dossier = factory.build("600", 1, period="2026-01")
    assert read_envelope(etree.fromstring(dossier.envelope)).ky_ke_khai == "01/2026"
    assert etree.fromstring(dossier.forms[0].content).findtext(".//KyKeKhai") == "01/2026"
    assert checker.check(dossier.envelope).accepted
    # the same dossier either way; SigningTime pinned, else two builds a second apart differ
    when = "2026-02-01T08:00:00Z"
    pinned = Tweaks(signed_form_hook=lambda _code, content: pin_signing_time(content, when))
    iso, vietnamese = (factory.build("600", 1, period=p, tweaks=pinned) for p in PERIODS)
    assert pin_signing_time(iso.envelope, when) == pin_signing_time(vietnamese.envelope, when)


def test_nfd_names_are_accepted_with_a_warning(pki: TestPKI) -> None:
    factory, checker = _tools("2024.1", pki)

    def decompose(_code: str, root: etree._Element) -> etree._Element:
        for node in root.iter("HoTen"):
            node.text = unicodedata.normalize("NFD", node.text or "")
        return root

    result = checker.check(factory.build("600", 4, tweaks=Tweaks(form_hook=decompose)).envelope)
    assert result.accepted
    assert "RULE-101" in {f.code for f in result.warnings}


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _setting(tag: str, change: Callable[[str], str]) -> Callable[[etree._Element], etree._Element]:
    def hook(root: etree._Element) -> etree._Element:
        for node in root.iter(tag):
            node.text = change(node.text or "")
        return root

    return hook


def _in_form(tag: str, change: Callable[[str], str]) -> Tweaks:
    return Tweaks(form_hook=lambda _code, root: _setting(tag, change)(root))


def _in_envelope(tag: str, change: Callable[[str], str]) -> Tweaks:
    return Tweaks(envelope_hook=_setting(tag, change))


@pytest.mark.parametrize(
    ("tweaks", "code"),
    [
        (_in_form("MasoBHXH", lambda t: t.translate(FULL_WIDTH)), "XSD-001"),
        (_in_form("MasoBHXH", lambda t: t.translate(ARABIC_INDIC)), "XSD-001"),
        (_in_form("NgaySinh", lambda t: t[:-2] + t[-2:].translate(FULL_WIDTH)), "XSD-001"),
        (_in_envelope("MaSoThue", lambda t: t.translate(FULL_WIDTH)), "ENV-001"),
        (_in_envelope("KyKeKhai", lambda t: t[:3] + t[3:].translate(FULL_WIDTH)), "ENV-001"),
        (_in_envelope("NgayLap", lambda _t: "31/04/2026"), "RULE-105"),
        (_in_envelope("NgayLap", lambda _t: "2026-02-29"), "RULE-105"),
    ],
)
def test_digits_are_ascii_and_dates_exist(pki: TestPKI, tweaks: Tweaks, code: str) -> None:
    """ "10 digits" means 0-9: a full-width or Arabic-Indic digit an input method or a
    spreadsheet slipped in is refused, as is a filing date that does not exist."""
    factory, checker = _tools("2024.1", pki)
    result = checker.check(factory.build("600", 4, tweaks=tweaks).envelope)
    assert code in {f.code for f in result.errors}


def test_a_length_limit_counts_an_nfd_name_as_nfc(pki: TestPKI) -> None:
    """NFD is tolerated, so a 190-character name stays under a 200-character limit
    however many combining marks it is spelled with."""
    factory, checker = _tools("2024.1", pki)
    name = ("CÔNG TY CỔ PHẦN ĐẦU TƯ XÂY DỰNG VÀ PHÁT TRIỂN HẠ TẦNG ĐÔ THỊ " * 4)[:190].strip()
    decomposed = unicodedata.normalize("NFD", name)
    assert len(decomposed) > 200
    tweaks = Tweaks(
        form_hook=lambda _code, root: _setting("TenDonVi", lambda _t: decomposed)(root),
        envelope_hook=_setting("TenDoiTuong", lambda _t: decomposed),
    )
    result = checker.check(factory.build("600", 4, tweaks=tweaks).envelope)
    assert result.accepted, [f.code for f in result.errors]
    assert "RULE-101" in {f.code for f in result.warnings}
    too_long = unicodedata.normalize("NFD", name + " TOÀN QUỐC VIỆT NAM")
    tweaks = Tweaks(envelope_hook=_setting("TenDoiTuong", lambda _t: too_long))
    result = checker.check(factory.build("600", 4, tweaks=tweaks).envelope)
    assert "ENV-001" in {f.code for f in result.errors}


DEFECT_CASES = [
    (v, p, d) for v in list_versions() for p in load_catalog(v).procedures for d in load_defects()
]


@pytest.mark.parametrize(("version", "procedure", "defect"), DEFECT_CASES)
def test_each_defect_fails_with_its_code(
    version: str, procedure: str, defect: str, pki: TestPKI
) -> None:
    factory, checker = _tools(version, pki)
    if not applies(factory, procedure, defect):
        with pytest.raises(FactoryError, match="does not apply"):
            build_defective(factory, procedure, defect)
        return
    dossier = build_defective(factory, procedure, defect, seed=11)
    result = checker.check(dossier.envelope)
    assert result.codes == sorted(dossier.expected_codes), [str(f) for f in result.errors]


def test_every_defect_applies_somewhere_in_the_latest_catalog(pki: TestPKI) -> None:
    factory, _ = _tools(list_versions()[-1], pki)
    for name in load_defects():
        assert any(applies(factory, p, name) for p in factory.catalog.procedures), name


def test_unknown_procedure_and_defect_say_what_exists(pki: TestPKI) -> None:
    factory, _ = _tools("2024.1", pki)
    with pytest.raises(FactoryError, match="known procedures: 600"):
        factory.build("999")
    with pytest.raises(FactoryError) as cased:
        factory.build("600x")
    assert "did you mean '600'?" in str(cased.value)
    with pytest.raises(FactoryError, match="known defects"):
        build_defective(factory, "600", "no-such-defect")


def test_envelope_counts_match_files(pki: TestPKI) -> None:
    factory, _ = _tools("2026.1", pki)
    dossier = factory.build("600", 2, optional_forms=True)
    info = read_envelope(etree.fromstring(dossier.envelope))
    assert int(info.so_luong_file) == len(info.files) == len(dossier.forms)
    assert all(f.do_dai == len(f.noi_dung) for f in info.files)
    assert [f.decode() for f in info.files] == [f.content for f in dossier.forms]


def test_reused_faker_gives_what_a_fresh_one_gives() -> None:
    from harness.dossiers.provider import make_faker, seeded_faker

    for seed in (0, 5, 99):
        reused, fresh = seeded_faker(seed), make_faker(seed)
        assert [reused.person() for _ in range(3)] == [fresh.person() for _ in range(3)]
        assert seeded_faker(seed).company_name() == make_faker(seed).company_name()


@pytest.mark.parametrize(
    ("defect", "prefix"),
    [
        ("foreign-certificate", "/Hoso/CKy_Dvi/ds:Signature/"),  # the envelope's, from its root
        ("unsigned-form", "D02-TS-505.xml:/D02-TS/Cky"),  # a form's, after its file name
    ],
)
def test_signature_findings_point_at_the_signature_like_every_other_finding(
    defect: str, prefix: str, pki: TestPKI
) -> None:
    factory, checker = _tools("2026.1", pki)
    result = checker.check(build_defective(factory, "600", defect, seed=2).envelope)
    assert result.errors and all(f.xpath.startswith(prefix) for f in result.errors), [
        f.xpath for f in result.errors
    ]


def _wrap_contents(width: int, delta: int = 0) -> Tweaks:
    """NoiDungFile in CRLF-broken lines, as Java's MIME encoder and .NET write it."""

    def wrap(envelope: etree._Element) -> etree._Element:
        for content in envelope.iter("NoiDungFile"):
            text = "".join((content.text or "").split())
            content.text = "\r\n".join(text[i : i + width] for i in range(0, len(text), width))
            length = content.getparent().find("DoDaiFile")
            length.text = str(len(text) + delta)
        return envelope

    return Tweaks(envelope_hook=wrap)


def test_line_breaks_in_base64_content_do_not_count_in_dodaifile(pki: TestPKI) -> None:
    factory, checker = _tools("2026.1", pki)
    wrapped = factory.build("604", 1, tweaks=_wrap_contents(76))
    assert b"\r\n" in wrapped.envelope or b"&#13;" in wrapped.envelope
    assert checker.check(wrapped.envelope).accepted
    wrong = checker.check(factory.build("604", 1, tweaks=_wrap_contents(76, delta=3)).envelope)
    assert wrong.codes == ["ENV-007"]
    assert "base64 characters; line breaks and spaces do not count" in wrong.errors[0].message_en
