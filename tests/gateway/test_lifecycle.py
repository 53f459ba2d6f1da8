"""Lifecycle on the simulated clock, the feed with its cursor and acks, and isolation."""

from __future__ import annotations

import base64
from collections.abc import Callable

from lxml import etree

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI, verify
from mock_gateway import messages
from mock_gateway.testing import Answer, InProcessGateway


def feed(gw: InProcessGateway, ivan: str = "IVAN01", **query: str) -> etree._Element:
    response = gw.request("GET", "/api/v1/messages", ivan=ivan, query=query)
    assert response.status == 200, response.body.decode()
    return etree.fromstring(response.body)


def entries(listing: etree._Element) -> list[dict[str, str]]:
    return [{c.tag: c.text or "" for c in m} for m in listing.iter("THONGBAO")]


def test_receipt_then_handover_then_result(
    gw: InProcessGateway, valid: Callable[..., Dossier], pki: TestPKI
) -> None:
    receipt = Answer.parse(gw.submit(valid().envelope))
    ma_gdich = receipt.ma_gdich
    assert gw.advance(15 * 60 - 1) == 0  # not due yet
    assert entries(feed(gw)) == []

    assert gw.advance(1) == 1
    [handover] = entries(feed(gw))
    assert handover["LOAI"] == "02/TB-TS" and handover["MA_GDICH"] == ma_gdich
    slip_bytes = base64.b64decode(handover["NOI_DUNG"])
    slip = Answer.parse(slip_bytes)
    assert slip.kind == "02/TB-TS" and slip.ma_kqua == "0"
    assert messages.SO_HSO_PATTERN.match(slip.so_hso), slip.so_hso
    assert slip.text("TTGDICH/NGAY_TRA")
    assert slip.text("MOI_TRUONG") == "THU_NGHIEM"
    verify(
        etree.fromstring(slip_bytes),
        signature_parent=messages.SIGNATURE_PARENT,
        trust=pki.trust_store(),
        at=gw.gateway.clock.now(),
    )

    assert gw.advance(60 * 60) == 1
    listing = entries(feed(gw))
    assert [e["LOAI"] for e in listing] == ["02/TB-TS", "03/TB-TS"]
    result = Answer.parse(base64.b64decode(listing[1]["NOI_DUNG"]))
    assert result.kind == "03/TB-TS" and result.ma_kqua == "0"
    assert result.so_hso == slip.so_hso

    status = etree.fromstring(gw.request("GET", f"/api/v1/dossiers/{ma_gdich}").body)
    assert status.findtext("HOSO/TRANG_THAI") == "accepted"
    assert status.findtext("HOSO/SO_HSO") == slip.so_hso
    assert [m.findtext("LOAI") for m in status.iter("THONGBAO")] == [
        "receipt",
        "02/TB-TS",
        "03/TB-TS",
    ]
    assert gw.advance(24 * 3600) == 0  # nothing more to issue


def test_dossier_numbers_are_sequential_per_agency_and_year(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    for _ in range(3):
        gw.submit(valid().envelope)
    gw.advance(15 * 60)
    numbers = [Answer.parse(base64.b64decode(e["NOI_DUNG"])).so_hso for e in entries(feed(gw))]
    assert len(set(numbers)) == 3
    assert all(messages.SO_HSO_PATTERN.match(n) for n in numbers)


def test_feed_cursor_limit_and_ack(gw: InProcessGateway, valid: Callable[..., Dossier]) -> None:
    for _ in range(3):
        gw.submit(valid().envelope)
    gw.advance(15 * 60)
    page = feed(gw, limit="2")
    first = entries(page)
    assert [e["CON_TRO"] for e in first] == ["1", "2"]
    assert page.findtext("CON_TRO_TIEP") == "2"
    rest = feed(gw, after="2")
    assert [e["CON_TRO"] for e in entries(rest)] == ["3"]
    assert entries(feed(gw, after="3")) == []
    assert feed(gw, after="3").findtext("CON_TRO_TIEP") == "3"

    message_id = first[0]["ID"]
    ack = gw.request("POST", f"/api/v1/messages/{message_id}/ack")
    assert ack.status == 200
    acked_at = etree.fromstring(ack.body).findtext("XACNHAN_THONGBAO/NGAY_XAC_NHAN")
    assert acked_at
    gw.advance(5)
    again = gw.request("POST", f"/api/v1/messages/{message_id}/ack")
    assert etree.fromstring(again.body).findtext("XACNHAN_THONGBAO/NGAY_XAC_NHAN") == acked_at
    assert entries(feed(gw))[0]["NGAY_XAC_NHAN"] == acked_at

    for query in ({"after": "-1"}, {"limit": "0"}, {"limit": "abc"}, {"limit": "100000"}):
        bad = gw.request("GET", "/api/v1/messages", query=query)
        assert (bad.status, Answer.parse(bad).ma_loi) == (400, "REQ-002")


def test_another_ivan_can_neither_read_nor_ack_nor_see(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    ma_gdich = Answer.parse(gw.submit(valid().envelope)).ma_gdich
    gw.advance(15 * 60)
    [message] = entries(feed(gw))

    foreign = gw.request("GET", f"/api/v1/dossiers/{ma_gdich}", ivan="IVAN02")
    missing = gw.request("GET", "/api/v1/dossiers/20990101DEADBEEFDEADBEEF", ivan="IVAN02")
    assert foreign.status == missing.status == 404
    assert Answer.parse(foreign).codes == ["NF-001"]
    assert Answer.parse(foreign).findings() == Answer.parse(missing).findings()
    assert ma_gdich not in foreign.body.decode()

    assert entries(feed(gw, ivan="IVAN02")) == []
    ack = gw.request("POST", f"/api/v1/messages/{message['ID']}/ack", ivan="IVAN02")
    assert (ack.status, Answer.parse(ack).ma_loi) == (404, "NF-001")
    assert entries(feed(gw))[0]["NGAY_XAC_NHAN"] == ""  # still unacknowledged for IVAN01


def test_feed_positions_are_per_ivan(
    gw: InProcessGateway, valid: Callable[..., Dossier], valid02: Callable[..., Dossier]
) -> None:
    gw.submit(valid().envelope)
    gw.submit(valid02().envelope, ivan="IVAN02")
    gw.advance(15 * 60)
    assert [e["CON_TRO"] for e in entries(feed(gw))] == ["1"]
    assert [e["CON_TRO"] for e in entries(feed(gw, ivan="IVAN02"))] == ["1"]


def test_background_processor_thread_issues_on_a_running_clock(
    pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    with InProcessGateway(pki=pki, clock_speed=3600.0, processor_interval=0.05) as gw:
        gw.submit(valid().envelope)
        gw.gateway.start_background()
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if len(entries(feed(gw))) == 2:
                break
            time.sleep(0.05)
        assert [e["LOAI"] for e in entries(feed(gw))] == ["02/TB-TS", "03/TB-TS"]
