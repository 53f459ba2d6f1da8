"""The intake pipeline: a valid signed dossier is stored then receipted; every code is reachable.

Each rejection test changes exactly one thing in an otherwise valid dossier and checks
the stable code, the HTTP status from ``error_codes.yaml``, the structured answer and
that the store did not change.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from harness.catalog import latest_version, load_catalog
from harness.dossiers.defects import applies, build_defective, load_defects
from harness.dossiers.factory import Dossier, DossierFactory
from harness.error_codes import describe
from harness.errors import CatalogError
from harness.signing import TestPKI, verify
from mock_gateway import messages
from mock_gateway.testing import Answer, InProcessGateway

STATE_TABLES = ("dossiers", "messages", "idempotency")


def state(gw: InProcessGateway) -> dict[str, int]:
    counts = gw.gateway.store.counts()
    return {t: counts[t] for t in STATE_TABLES}


def test_accepted_dossier_is_committed_before_the_receipt(
    gw: InProcessGateway, valid: Callable[..., Dossier], pki: TestPKI
) -> None:
    dossier = valid()
    response = gw.submit(dossier.envelope, message_id="msg-accept-1")
    assert response.status == 202, response.body.decode()
    receipt = Answer.parse(response)
    assert receipt.kind == "XACNHAN_NOP" and receipt.ma_kqua == "0" and receipt.ma_loi == ""
    ma_gdich = receipt.ma_gdich
    assert response.headers["X-Ma-Gdich"] == ma_gdich
    assert response.headers["Location"] == f"/api/v1/dossiers/{ma_gdich}"

    # A separate connection sees the committed rows: the receipt was sent after COMMIT.
    with sqlite3.connect(gw.database_path) as db:
        body, status, ivan = db.execute(
            "select body, status, ivan from dossiers where ma_gdich = ?", (ma_gdich,)
        ).fetchone()
        stored_receipt = db.execute(
            "select receipt from idempotency where ivan = 'IVAN01' and message_id = 'msg-accept-1'"
        ).fetchone()[0]
        kinds = db.execute(
            "select kind, xml from messages where ma_gdich = ?", (ma_gdich,)
        ).fetchall()
    assert bytes(body) == dossier.envelope
    assert (status, ivan) == ("received", "IVAN01")
    assert bytes(stored_receipt) == response.body
    assert [(k, bytes(x)) for k, x in kinds] == [("receipt", response.body)]

    # The receipt is signed by the gateway and says it is a test system.
    signed = etree.fromstring(response.body)
    verified = verify(signed, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store())
    assert "BẢO HIỂM XÃ HỘI" in verified.subject
    assert receipt.text("MOI_TRUONG") == "THU_NGHIEM"
    assert b"TEST ENVIRONMENT" in response.body


def test_no_receipt_when_the_commit_fails(
    gw: InProcessGateway, valid: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(gw.gateway.store, "save_many", broken)
    response = gw.submit(valid().envelope)
    assert response.status == 503  # the storage failed, not the request: retry later
    assert Answer.parse(response).ma_loi == "SRV-001"
    assert b"XACNHAN_NOP" not in response.body
    assert state(gw) == {"dossiers": 0, "messages": 0, "idempotency": 0}


def test_unexpected_internal_error_is_500_and_logged(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(*_args: object) -> object:
        raise KeyError("bug")

    monkeypatch.setattr(gw.gateway.intake, "check", boom)
    response = gw.submit(valid().envelope)
    assert response.status == 500 and response.outcome == "SRV-002"
    assert any("internal error" in r.getMessage() for r in caplog.records)


def _defects(*, result: bool = False) -> list[str]:
    """The named defects the intake refuses, or (``result``) those it accepts and whose
    03/TB-TS lists the row."""
    return sorted(name for name, d in load_defects().items() if bool(d.result) == result)


def _defective(factory: DossierFactory, name: str) -> Dossier:
    procedure = next((p for p in factory.catalog.procedures if applies(factory, p, name)), None)
    if procedure is None:  # a defect of a rule a newer version adds: built under it
        factory = DossierFactory(load_catalog(latest_version()), factory.pki)
        procedure = next(p for p in factory.catalog.procedures if applies(factory, p, name))
    return build_defective(factory, procedure, name, seed=7)


@pytest.mark.parametrize("name", _defects(result=True))
def test_a_result_defect_is_accepted_and_its_03_tb_ts_lists_its_code(
    name: str, gw: InProcessGateway, factory: DossierFactory
) -> None:
    dossier = _defective(factory, name)
    receipt = Answer.parse(gw.submit(dossier.envelope))
    assert (receipt.kind, receipt.findings()) == ("XACNHAN_NOP", [])
    gw.advance(15 * 60 + 60 * 60)
    listing = etree.fromstring(gw.request("GET", "/api/v1/messages").body)
    [result] = [
        Answer.parse(base64.b64decode(m.findtext("NOI_DUNG") or ""))
        for m in listing.iter("THONGBAO")
        if m.findtext("LOAI") == messages.RESULT and m.findtext("MA_GDICH") == receipt.ma_gdich
    ]
    assert result.ma_kqua == "2"
    assert sorted(row["MA_LOI"] for row in result.findings()) == list(dossier.result_codes)


@pytest.mark.parametrize("name", _defects())
def test_defect_corpus_gets_its_code(
    name: str, gw: InProcessGateway, factory: DossierFactory
) -> None:
    dossier = _defective(factory, name)
    before = state(gw)
    response = gw.submit(dossier.envelope)
    rejection = Answer.parse(response)
    assert set(dossier.expected_codes) <= set(rejection.codes), rejection.findings()
    assert rejection.ma_loi in dossier.expected_codes
    assert response.status == describe(rejection.ma_loi).http
    assert rejection.ma_kqua == "1" and rejection.kind == "TU_CHOI"
    assert state(gw) == before


def _rename_form(root: etree._Element) -> None:
    root.find("NoiDung/ThongTinHoSo/ToKhais/FileToKhai/TenFile").text = "D02-TS-999.xml"


def _drop_ivan_name(root: etree._Element) -> None:
    ivan = root.find("NoiDung/ThongTinIVAN")
    ivan.remove(ivan.find("TenIVAN"))


@pytest.mark.parametrize(
    ("change", "code"),
    [(_rename_form, "ENV-009"), (_drop_ivan_name, "ENV-001")],
    ids=["unknown-form-version", "envelope-schema"],
)
def test_envelope_codes(
    change: Callable[[etree._Element], None],
    code: str,
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    mutate: Any,
) -> None:
    envelope = mutate.envelope(valid().envelope, change)
    response = gw.submit(envelope)
    assert Answer.parse(response).ma_loi == code
    assert response.status == 400


def test_maivan_must_be_the_sender(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    response = gw.submit(valid().envelope, ivan="IVAN02")
    assert response.status == 403
    assert Answer.parse(response).ma_loi == "ENV-010"


def test_signature_value_tampered(
    gw: InProcessGateway, valid: Callable[..., Dossier], mutate: Any
) -> None:
    root = etree.fromstring(valid().envelope)
    value = root.find("CKy_Dvi/{http://www.w3.org/2000/09/xmldsig#}Signature/{*}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0xFF
    value.text = base64.b64encode(bytes(raw)).decode()
    response = gw.submit(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert Answer.parse(response).codes == ["SIG-003"]


def test_signature_covering_part_of_the_document(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    root = etree.fromstring(valid().envelope)
    ref = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference")
    ref.set("URI", "#NoiDung")
    response = gw.submit(etree.tostring(root))
    assert "SIG-008" in Answer.parse(response).codes


def test_malformed_signature(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    root = etree.fromstring(valid().envelope)
    info = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignedInfo")
    info.getparent().remove(info)
    response = gw.submit(etree.tostring(root))
    assert Answer.parse(response).codes == ["SIG-009"]


def test_sigid_target_mismatch_is_a_warning_kept_in_the_receipt(
    gw: InProcessGateway, valid: Callable[..., Dossier], mutate: Any
) -> None:
    """Real files carry a GUID Id while SignatureProperty says #sigid: accepted, with SIG-101."""

    def retarget(content: bytes) -> bytes:
        form = etree.fromstring(content)
        prop = form.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureProperty")
        prop.set("Target", "#f3b8c1d2-guid")  # the Object is outside the signed reference
        return etree.tostring(form, xml_declaration=True, encoding="UTF-8")

    envelope = mutate.form(valid().envelope, retarget)
    response = gw.submit(envelope)
    assert response.status == 202, response.body.decode()
    receipt = Answer.parse(response)
    assert receipt.ma_kqua == "0"
    [warning] = receipt.findings()
    assert warning["MA_LOI"] == "SIG-101" and warning["MUC_DO"] == "warning"
    assert "SignatureProperty" in warning["XPATH"]


def test_findings_carry_xpath_and_both_languages(
    gw: InProcessGateway, factory: DossierFactory
) -> None:
    response = gw.submit(build_defective(factory, "600", "wage-below-minimum", seed=3).envelope)
    [row] = [f for f in Answer.parse(response).findings() if f["MA_LOI"] == "RULE-102"][:1]
    assert row["XPATH"].startswith("D02-TS-595.xml:/D02-TS/")  # file, then node in it
    assert row["MOTA_VI"] and row["MOTA_EN"] and row["MOTA_VI"] != row["MOTA_EN"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Content-Type": "application/xml"}, 400, "REQ-001"),
        ({"Content-Type": "application/xml", "X-Message-Id": "x" * 200}, 400, "REQ-002"),
        ({"Content-Type": "application/xml", "X-Message-Id": "m 1"}, 400, "REQ-002"),
        ({"Content-Type": "application/json", "X-Message-Id": "m"}, 415, "XML-004"),
        ({"X-Message-Id": "m"}, 415, "XML-004"),
        ({"Content-Type": "text/xml; charset=iso-8859-1", "X-Message-Id": "m"}, 400, "XML-003"),
        ({"Content-Type": 'Application/XML; Charset="UTF-8"', "X-Message-Id": "m"}, 202, ""),
        (
            {"Content-Type": "application/xml", "Content-Encoding": "gzip", "X-Message-Id": "m"},
            415,
            "XML-005",
        ),
        (
            {"Content-Type": "text/xml", "Content-Encoding": "Identity", "X-Message-Id": "m"},
            202,
            "",
        ),
    ],
    ids=[
        "no-message-id",
        "long-message-id",
        "spaced-message-id",
        "json",
        "no-content-type",
        "latin-1",
        "utf-8-quoted",
        "gzip",
        "identity",
    ],
)
def test_request_level_codes(
    headers: dict[str, str],
    status: int,
    code: str,
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
) -> None:
    response = gw.request("POST", "/api/v1/dossiers", body=valid().envelope, headers=headers)
    assert (response.status, Answer.parse(response).ma_loi) == (status, code)
    assert state(gw)["dossiers"] == (status == 202)


@pytest.mark.parametrize(
    ("token", "path", "status", "code"),
    [
        (None, "/api/v1/catalog", 401, "AUTH-001"),
        ("Bearer nope", "/api/v1/catalog", 401, "AUTH-002"),
        ("Basic dGVzdA==", "/api/v1/catalog", 401, "AUTH-001"),
        ("Bearer test-token-IVAN01", "/admin/traffic", 403, "AUTH-003"),
        ("Bearer test-admin-token", "/api/v1/catalog", 403, "AUTH-004"),
    ],
)
def test_authentication(
    token: str | None, path: str, status: int, code: str, gw: InProcessGateway
) -> None:
    headers = {} if token is None else {"Authorization": token}
    response = gw.request("GET", path, ivan=None, headers=headers)
    assert (response.status, Answer.parse(response).ma_loi) == (status, code)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_route_and_method(gw: InProcessGateway) -> None:
    missing = gw.request("GET", "/api/v2/nothing")
    assert (missing.status, Answer.parse(missing).ma_loi) == (404, "NF-001")
    wrong = gw.request("DELETE", "/api/v1/dossiers")
    assert (wrong.status, Answer.parse(wrong).ma_loi) == (405, "REQ-002")
    assert wrong.headers["Allow"] == "POST"


def test_catalog_lists_versions_and_procedures(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/api/v1/catalog")
    root = etree.fromstring(response.body)
    versions = [v.get("PHIEN_BAN") for v in root.iter("DANH_MUC")]
    assert versions == ["2024.1", "2026.1"]
    codes = {p.get("MA") for p in root.iter("THU_TUC")}
    assert {"600", "604", "630a"} <= codes


def test_rejections_are_signed_by_the_gateway(gw: InProcessGateway, pki: TestPKI) -> None:
    response = gw.submit(b"<Hoso>")
    root = etree.fromstring(response.body)
    verify(root, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store())
    answer = Answer.parse(response)
    assert answer.text("MOI_TRUONG") == "THU_NGHIEM"
    assert answer.text("TTCKY_BHXH/TTCKY/SERIAL")
    assert response.headers["X-BHXH-Ma-Loi"] == "XML-001"


def test_the_declared_period_picks_the_catalog_version(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    valid2026: Callable[..., Dossier],
) -> None:
    assert gw.submit(valid().envelope).status == 202  # 07/2024, D02-TS-595 under 2024.1
    new = valid2026("630a")  # a procedure that only 2026.1 has
    accepted = gw.submit(new.envelope)
    assert accepted.status == 202, accepted.body.decode()
    status = gw.request("GET", f"/api/v1/dossiers/{Answer.parse(accepted).ma_gdich}")
    assert b"<PHIEN_BAN_DANH_MUC>2026.1</PHIEN_BAN_DANH_MUC>" in status.body


def test_a_decoy_period_cannot_choose_the_catalog(
    gw: InProcessGateway, valid2026: Callable[..., Dossier]
) -> None:
    """A KyKeKhai in a comment before the envelope must not make 2024.1 judge a 2026 file."""
    envelope = valid2026("600").envelope
    head, _, rest = envelope.partition(b"?>")
    decoy = head + b"?>\n<!-- <KyKeKhai>07/2024</KyKeKhai> -->" + rest
    response = gw.submit(decoy)
    assert response.status == 202, response.body.decode()


def test_a_rule_failing_at_run_time_is_500_and_one_line_naming_the_file(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_rule(*_args: object) -> object:
        raise CatalogError("rule fails when run: Undefined variable", path="rules/D02-TS.sch")

    monkeypatch.setattr(gw.gateway.intake, "check", broken_rule)
    response = gw.submit(valid().envelope)
    assert response.status == 500 and response.outcome == "SRV-002"
    assert b"D02-TS.sch" not in response.body  # the sender learns nothing of the server's data
    [record] = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert "rules/D02-TS.sch" in record.getMessage() and record.exc_info is None
