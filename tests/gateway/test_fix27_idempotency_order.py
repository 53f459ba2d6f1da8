"""A new dossier learns whether its message id is bound inside its commit, not before.

The look-up before the checks cost every accepted dossier a read of its own; now only a
rejected one looks (a replay of a body that no longer passes must still get its receipt),
and an accepted replay finds its binding in the transaction that would have stored it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.dossiers.factory import Dossier
from mock_gateway.intake import reject
from mock_gateway.testing import Answer, InProcessGateway


@pytest.fixture
def lookups(gw: InProcessGateway, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every idempotency look-up made outside a commit."""
    calls: list[tuple[str, str]] = []
    store = gw.gateway.store
    original = store.idempotent

    def counted(ivan: str, message_id: str) -> object:
        calls.append((ivan, message_id))
        return original(ivan, message_id)

    monkeypatch.setattr(store, "idempotent", counted)
    return calls


def test_a_new_dossier_is_not_looked_up_before_its_commit(
    gw: InProcessGateway, valid: Callable[..., Dossier], lookups: list[tuple[str, str]]
) -> None:
    answer = gw.submit(valid().envelope, message_id="order-1")
    assert answer.status == 202
    assert lookups == []
    assert gw.gateway.store.counts()["idempotency"] == 1


def test_an_accepted_replay_is_answered_from_its_binding_and_stores_nothing(
    gw: InProcessGateway, valid: Callable[..., Dossier], lookups: list[tuple[str, str]]
) -> None:
    envelope = valid().envelope
    first = gw.submit(envelope, message_id="order-2")
    again = gw.submit(envelope, message_id="order-2")
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert again.headers["X-Idempotent-Replay"] == "true"
    assert again.headers["X-Ma-Gdich"] == first.headers["X-Ma-Gdich"]
    assert lookups == []  # found in the commit's transaction
    counts = gw.gateway.store.counts()
    assert (counts["dossiers"], counts["idempotency"], counts["messages"]) == (1, 1, 1)


def test_a_replay_that_would_now_be_rejected_still_gets_its_receipt(
    gw: InProcessGateway,
    valid: Callable[..., Dossier],
    lookups: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    envelope = valid().envelope
    first = gw.submit(envelope, message_id="order-3")
    assert first.status == 202

    def no_longer_passes(*_args: object) -> object:  # a rule or a certificate changed since
        raise reject("SIG-004", "/Hoso")

    monkeypatch.setattr(gw.gateway.intake, "check", no_longer_passes)
    fresh = gw.submit(envelope, message_id="order-3-new")
    assert fresh.status != 202 and Answer.parse(fresh).ma_loi == "SIG-004"
    again = gw.submit(envelope, message_id="order-3")
    assert again.status == 202
    assert again.body == first.body
    assert again.headers["X-Idempotent-Replay"] == "true"
    assert ("IVAN01", "order-3") in lookups
    assert gw.gateway.store.counts()["dossiers"] == 1


def test_another_body_under_a_bound_id_is_409_whether_it_passes_or_not(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    assert gw.submit(valid().envelope, message_id="order-4").status == 202
    passing = gw.submit(valid().envelope, message_id="order-4")
    failing = gw.submit(b"<Hoso/>", message_id="order-4")
    assert (passing.status, failing.status) == (409, 409)
    assert {Answer.parse(passing).ma_loi, Answer.parse(failing).ma_loi} == {"DUP-001"}
    assert gw.gateway.store.counts()["dossiers"] == 1
