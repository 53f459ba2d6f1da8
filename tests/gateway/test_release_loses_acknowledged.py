"""The ``loses-acknowledged`` release: a dossier carrying a lost form gets its receipt and
is never stored. The regression matrix must catch a release that loses acknowledged
dossiers; here the gateway side is shown to do exactly that, and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness.catalog import load_catalog
from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from mock_gateway.releases import NO_RELEASE, load_release
from mock_gateway.testing import Answer, InProcessGateway

LOST = sorted(load_release("loses-acknowledged").lose_forms)


def _procedures(carrying: bool) -> list[str]:
    """The 2024.1 procedures whose forms do (or do not) include a lost one."""
    procedures = load_catalog("2024.1").procedures
    return [code for code, p in procedures.items() if bool(set(p.forms) & set(LOST)) == carrying]


def _carrying(valid: Callable[..., Dossier]) -> Dossier:
    """A dossier carrying a lost form: every optional form included (a seed may leave the
    lost form out of a procedure where it is optional)."""
    dossier = valid(_procedures(carrying=True)[0], optional_forms=True)
    assert set(LOST) & {built.form.form for built in dossier.forms}, dossier.procedure
    return dossier


@pytest.fixture
def faulty(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(GatewayConfig(release="loses-acknowledged"), pki=pki) as gateway:
        yield gateway


def test_the_release_loses_a_form_some_procedures_carry_and_others_do_not() -> None:
    assert LOST and _procedures(carrying=True) and _procedures(carrying=False)
    assert not NO_RELEASE.loses(LOST)


def test_a_dossier_with_a_lost_form_is_acknowledged_and_never_stored(
    faulty: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    answer = faulty.submit(_carrying(valid).envelope, message_id="lost-1")
    receipt = Answer.parse(answer)
    assert answer.status == 202 and receipt.kind == "XACNHAN_NOP" and receipt.ma_gdich
    assert answer.headers["X-Idempotent-Replay"] == "false"
    counts = faulty.gateway.store.counts()
    assert counts["dossiers"] == 0 and counts["idempotency"] == 0
    found = faulty.request("GET", f"/api/v1/dossiers/{receipt.ma_gdich}")
    assert found.status == 404


def test_a_retry_of_a_lost_dossier_is_taken_for_a_new_one(
    faulty: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    envelope = _carrying(valid).envelope
    first = faulty.submit(envelope, message_id="lost-2")
    again = faulty.submit(envelope, message_id="lost-2")
    assert (first.status, again.status) == (202, 202)
    assert Answer.parse(first).ma_gdich != Answer.parse(again).ma_gdich
    assert again.headers["X-Idempotent-Replay"] == "false"


def test_a_dossier_without_a_lost_form_is_stored_as_by_the_reference(
    faulty: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid(_procedures(carrying=False)[0]).envelope
    first = faulty.submit(envelope, message_id="kept-1")
    again = faulty.submit(envelope, message_id="kept-1")
    assert faulty.gateway.store.counts()["dossiers"] == 1
    assert again.body == first.body and again.headers["X-Idempotent-Replay"] == "true"
