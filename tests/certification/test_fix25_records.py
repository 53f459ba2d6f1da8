"""The gateway's values live in ``records.py`` and keep every old import path; a feed
message says which certificate signed it (one reader for the rollover and untrusted checks)."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

import harness.certification as facade
from harness.certification import gateway, records
from harness.certification.records import FeedEntry
from harness.signing import TestPKI
from mock_gateway.answer_signer import MessageSigner


def _entry(content: bytes) -> FeedEntry:
    return FeedEntry("M1", "02/TB-TS", "1", "", "", content)


def test_a_message_names_the_serial_of_its_signing_certificate(pki: TestPKI) -> None:
    credential = pki.credential("bhxh-next")
    root = etree.fromstring(b"<BHXH><XACNHAN_GDICH><TTCKY_BHXH/></XACNHAN_GDICH></BHXH>")
    signed = MessageSigner(credential).sign(root, datetime(2026, 1, 5, tzinfo=UTC))
    assert _entry(signed).signing_serial == format(credential.certificate.serial_number, "X")
    assert _entry(b"<BHXH><XACNHAN_GDICH/></BHXH>").signing_serial == ""


def test_the_values_keep_their_import_paths() -> None:
    for name in ("TrafficRow", "FeedEntry", "DossierStatus", "parse_time"):
        assert getattr(gateway, name) is getattr(records, name)
    for name in ("TrafficRow", "FeedEntry", "DossierStatus"):
        assert getattr(facade, name) is getattr(records, name)
