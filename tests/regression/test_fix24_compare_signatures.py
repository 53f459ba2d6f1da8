"""BHXH's signature of every answer and feed message is judged, recorded and compared: a
candidate whose receipts or messages lose their signature, or carry a broken one, fails;
a new certificate of the same signer does not (its serial is volatile, its subject not)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from harness.client import parse_answer
from harness.regression.baseline_check import Damaged, check_outcomes
from harness.regression.compare import compare_dossier
from harness.regression.normalise import (
    BHXH_SIGNATURE,
    Masks,
    load_masks,
    message,
    outcome,
    signature_notes,
)
from harness.signing import Credential, TestPKI, sign

RECEIPT = (
    "<BHXH><XACNHAN_GDICH><LOAI_TBAO>{kind}</LOAI_TBAO><TTGDICH><MA_GDICH>G-1</MA_GDICH>"
    "<MA_KQUA>0</MA_KQUA><MA_LOI></MA_LOI></TTGDICH><TTCKY_BHXH><TTCKY><SERIAL>1</SERIAL>"
    "</TTCKY></TTCKY_BHXH></XACNHAN_GDICH></BHXH>"
)


def _signed(credential: Credential, kind: str = "XACNHAN_NOP") -> bytes:
    root = etree.fromstring(RECEIPT.format(kind=kind).encode())
    signed = sign(root, credential, signature_parent=BHXH_SIGNATURE)
    return bytes(etree.tostring(signed, encoding="UTF-8"))


def _unsigned(body: bytes) -> bytes:
    return re.sub(rb"<ds:Signature .*?</ds:Signature>", b"", body, flags=re.S)


def _corrupted(body: bytes) -> bytes:
    """The signature value with its first base64 character changed (still base64)."""
    at = body.index(b"<ds:SignatureValue>") + len(b"<ds:SignatureValue>")
    return body[:at] + (b"B" if body[at : at + 1] == b"A" else b"A") + body[at + 1 :]


def _same_signer_new_key(pki: TestPKI) -> Credential:
    """BHXH's key rolled over: a new key and certificate, the same subject and CA."""
    issuing, old = pki.authority("issuing"), pki.credential("bhxh")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(old.certificate.subject)
        .issuer_name(issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuing.private_key, hashes.SHA256())
    )
    return replace(old, private_key=key, certificate=certificate)


@pytest.fixture(scope="module")
def masks(pki: TestPKI) -> Masks:
    return load_masks(trust=pki.trust_store())


def _receipt(body: bytes, masks: Masks) -> dict[str, Any]:
    result = outcome(parse_answer(202, body), masks)
    return result | {"messages": [], "replay": {"status": 202, "same_receipt": True}}


def _kinds(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (d.kind, d.field, d.expected, d.actual)
        for d in compare_dossier("600/x", "600", (), before, after)
    ]


def test_a_receipt_records_a_valid_trusted_signature_and_its_signer(
    pki: TestPKI, masks: Masks
) -> None:
    recorded = _receipt(_signed(pki.credential("bhxh")), masks)["signature"]
    subject = pki.credential("bhxh").certificate.subject.rfc4514_string()
    assert recorded == {"verdict": "valid", "trust": "trusted", "signer": subject}


@pytest.mark.parametrize(
    ("alter", "said"),
    [(_unsigned, "missing"), (_corrupted, "invalid (SIG-003), trusted, signed by CN=")],
)
def test_a_receipt_losing_or_breaking_its_signature_is_a_difference(
    pki: TestPKI, masks: Masks, alter: Any, said: str
) -> None:
    body = _signed(pki.credential("bhxh"))
    [(kind, field, expected, actual)] = _kinds(_receipt(body, masks), _receipt(alter(body), masks))
    assert (kind, field) == ("changed-signature", "signature")
    assert expected.startswith("valid, trusted, signed by CN=BẢO HIỂM XÃ HỘI VIỆT NAM")
    assert actual.startswith(said)


def test_a_feed_message_losing_its_signature_is_a_difference(pki: TestPKI, masks: Masks) -> None:
    body = _signed(pki.credential("bhxh"), "02/TB-TS")
    before = _receipt(_signed(pki.credential("bhxh")), masks)
    after = dict(before, messages=[message("02/TB-TS", _unsigned(body), masks)])
    before["messages"] = [message("02/TB-TS", body, masks)]
    [(kind, field, _expected, actual)] = _kinds(before, after)
    assert (kind, field, actual) == ("changed-signature", "02/TB-TS signature", "missing")


def test_a_new_key_of_the_same_signer_is_no_difference(pki: TestPKI, masks: Masks) -> None:
    before = _receipt(_signed(pki.credential("bhxh")), masks)
    after = _receipt(_signed(_same_signer_new_key(pki)), masks)
    assert after["signature"]["verdict"] == "valid"
    assert _kinds(before, after) == []


def test_another_signer_or_an_untrusted_certificate_is_a_difference(
    pki: TestPKI, masks: Masks
) -> None:
    before = _receipt(_signed(pki.credential("bhxh")), masks)
    [(_, _, _, other)] = _kinds(before, _receipt(_signed(pki.credential("bhxh-next")), masks))
    assert other.startswith("valid, trusted, signed by ") and "(2)" in other
    [(_, _, _, foreign)] = _kinds(before, _receipt(_signed(pki.credential("foreign")), masks))
    assert foreign.startswith("valid, untrusted (SIG-004), signed by CN=CÔNG TY NGOÀI HỆ THỐNG")


def test_an_untrusted_signer_on_both_sides_is_no_difference(pki: TestPKI, masks: Masks) -> None:
    """A staging gateway's certificate need not chain to the test CA: judged all the same."""
    body = _signed(pki.credential("foreign"))
    assert _kinds(_receipt(body, masks), _receipt(body, masks)) == []
    [(kind, _, _, actual)] = _kinds(_receipt(body, masks), _receipt(_corrupted(body), masks))
    assert (kind, actual.split(",")[0]) == ("changed-signature", "invalid (SIG-003)")


def test_a_baseline_recorded_before_signatures_were_judged_compares_the_rest(
    pki: TestPKI, masks: Masks
) -> None:
    before = _receipt(_signed(pki.credential("bhxh")), masks)
    del before["signature"]
    assert _kinds(before, _receipt(_unsigned(_signed(pki.credential("bhxh"))), masks)) == []


def test_the_baseline_check_reads_signature_verdicts_and_refuses_a_damaged_one(
    pki: TestPKI, masks: Masks
) -> None:
    good = _receipt(_signed(pki.credential("bhxh")), masks)
    good["messages"] = [message("03/TB-TS", _signed(pki.credential("bhxh"), "03/TB-TS"), masks)]
    assert check_outcomes({"600/x": good}, {"dossiers": 1}) == {"600/x": good}
    with pytest.raises(Damaged, match="signature"):
        check_outcomes({"600/x": good | {"signature": "valid"}}, {"dossiers": 1})


def test_the_recorded_reference_signs_every_answer_and_message(reference: Any) -> None:
    """Every answer the unmodified gateway gave, refusals and feed messages too, is signed
    by BHXH and verifies: what a candidate's answers are judged against."""
    verdicts = {str(o.get("signature")) for o in reference.outcomes.values()}
    verdicts |= {
        str(m.get("signature")) for o in reference.outcomes.values() for m in o["messages"]
    }
    assert len(verdicts) == 1 and "'verdict': 'valid', 'trust': 'trusted'" in verdicts.pop()


def test_recording_a_gateway_that_does_not_sign_is_told(pki: TestPKI, masks: Masks) -> None:
    body = _signed(pki.credential("bhxh"))
    unsigned = _receipt(_unsigned(body), masks)
    unsigned["messages"] = [message("02/TB-TS", _corrupted(body), masks)]
    notes = signature_notes({"600/a": unsigned, "600/b": _receipt(body, masks)})
    assert notes == [
        "1 answer(s) or message(s) whose BHXH signature is missing, e.g. 600/a answer: "
        "recorded as what this gateway does, a candidate doing the same passes",
        "1 answer(s) or message(s) whose BHXH signature is invalid (SIG-003), trusted, e.g. "
        "600/a 02/TB-TS: recorded as what this gateway does, a candidate doing the same passes",
    ]
