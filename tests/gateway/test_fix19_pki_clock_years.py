"""The gateway's answers verify wherever its simulated clock is: years ahead, at its
limit, or started in the past. An I-VAN checks them at their SigningTime (SIG-005), and
with a two-year ``bhxh`` certificate every answer went invalid, silently."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI, VerifiedSignature, verify
from mock_gateway import messages
from mock_gateway.clock import LATEST
from mock_gateway.testing import Answer, InProcessGateway

YEAR = 365 * 86400


def checked(
    pki: TestPKI, gw: InProcessGateway, answer: bytes, since: datetime
) -> VerifiedSignature:
    """The answer's signature as a correct I-VAN checks it, at the gateway's now; it was
    signed on the simulated timeline, at ``since`` or later."""
    now = gw.gateway.clock.now()
    result = verify(
        answer, signature_parent=messages.SIGNATURE_PARENT, trust=pki.trust_store(), at=now
    )
    assert result.signing_time is not None
    assert since.replace(microsecond=0) <= result.signing_time <= now
    return result


def lifecycle(gw: InProcessGateway) -> list[bytes]:
    """Issue the 02/TB-TS and 03/TB-TS of what was submitted; their signed bytes."""
    gw.advance(2 * 3600)
    page = etree.fromstring(gw.request("GET", "/api/v1/messages").body)
    issued = [base64.b64decode(n.findtext("NOI_DUNG") or "") for n in page.iter("THONGBAO")]
    assert [Answer.parse(m).kind for m in issued] == ["02/TB-TS", "03/TB-TS"]
    return issued


@pytest.mark.parametrize("signer", ["bhxh", "bhxh-next"])
def test_answers_verify_three_years_on(
    pki: TestPKI, valid: Callable[..., Dossier], signer: str
) -> None:
    """The QA probe: advance three years, submit, verify the receipt and the messages."""
    with InProcessGateway(pki=pki, signer=signer) as gw:
        gw.advance(3 * YEAR)
        since = gw.gateway.clock.now()
        receipt = gw.submit(valid().envelope)
        assert receipt.status == 202, receipt.body.decode()
        signed_by = checked(pki, gw, receipt.body, since).certificate
        assert signed_by == pki.credential(signer).certificate
        for message in lifecycle(gw):
            checked(pki, gw, message, since)


def test_answers_verify_up_to_the_clock_limit(pki: TestPKI, valid: Callable[..., Dossier]) -> None:
    """The last day the clock can show, and the stopped clock itself."""
    since = LATEST - timedelta(days=1)
    with InProcessGateway(pki=pki, start=since) as gw:
        receipt = gw.submit(valid().envelope)
        assert receipt.status == 202, receipt.body.decode()
        checked(pki, gw, receipt.body, since)
        gw.advance(86400 - 2 * 3600)
        issued = lifecycle(gw)  # reaches LATEST exactly
        assert gw.gateway.clock.now() == LATEST
        for message in issued:
            checked(pki, gw, message, since)


def test_answers_verify_on_a_clock_started_before_the_pki(
    pki: TestPKI, valid: Callable[..., Dossier]
) -> None:
    """InProcessGateway(start=...) in the past, e.g. to replay a year boundary."""
    made = pki.credential("unit").certificate.not_valid_before_utc
    start = datetime(made.year - 2, 12, 31, 23, tzinfo=UTC)
    with InProcessGateway(pki=pki, start=start) as gw:
        receipt = gw.submit(valid().envelope)
        assert receipt.status == 202, receipt.body.decode()
        checked(pki, gw, receipt.body, start)
        for message in lifecycle(gw):
            checked(pki, gw, message, start)
