"""A lost database is 503 SRV-001 with Retry-After, and one warning, not a traceback a tick.

With PostgreSQL stopped under a serving gateway, submissions got 500 SRV-002 and every
worker logged a full traceback every 0.25 s from its lifecycle processor. Here the
store's engine is swapped for one whose connections fail, as a stopped server's do.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from harness.dossiers.factory import Dossier
from mock_gateway.exchange import GatewayResponse
from mock_gateway.outage import database_lost
from mock_gateway.testing import Answer, InProcessGateway
from tests.gateway.conftest import ValidDossiers


@contextmanager
def database_down(gw: InProcessGateway, tmp_path: Path) -> Iterator[None]:
    """Every new connection fails (the file's folder does not exist) until the block ends."""
    store = gw.gateway.store
    working = store.engine
    store.engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'gateway.sqlite3'}")
    try:
        yield
    finally:
        store.engine.dispose()
        store.engine = working


def _unavailable(answer: GatewayResponse) -> None:
    assert (answer.status, Answer.parse(answer).ma_loi) == (503, "SRV-001"), answer.body[:300]
    assert answer.headers["Retry-After"].isdigit()


def _health_unavailable(answer: GatewayResponse) -> None:
    """``/healthz`` says the outage in its own JSON, for a monitoring probe to read."""
    assert answer.status == 503 and answer.headers["Retry-After"].isdigit()
    body = json.loads(answer.body)
    assert body["status"] == "unavailable" and body["database"] is False


def test_requests_get_503_while_the_database_is_down(
    gw: InProcessGateway, valid: ValidDossiers, tmp_path: Path
) -> None:
    dossier: Dossier = valid()
    stored = gw.submit(valid().envelope)
    with database_down(gw, tmp_path):
        _unavailable(gw.submit(dossier.envelope, message_id="during-outage"))
        _unavailable(gw.request("GET", f"/api/v1/dossiers/{stored.headers['X-Ma-Gdich']}"))
        _unavailable(gw.request("GET", "/api/v1/messages"))
        _health_unavailable(gw.request("GET", "/healthz", ivan=None))
    again = gw.submit(dossier.envelope, message_id="during-outage")  # the retry succeeds
    assert again.status == 202 and again.headers["X-Idempotent-Replay"] == "false"


def test_a_commit_that_loses_the_database_is_503(
    gw: InProcessGateway, valid: ValidDossiers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idempotency read passed; the database went away before the commit."""
    monkeypatch.setattr(gw.gateway.store, "idempotent", lambda ivan, message_id: None)
    with database_down(gw, tmp_path):
        _unavailable(gw.submit(valid().envelope))


def test_the_processor_warns_once_when_the_database_goes_and_once_when_it_is_back(
    gw: InProcessGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    processor = gw.gateway.processor
    caplog.set_level(logging.WARNING)
    with database_down(gw, tmp_path):
        processor.start(0.01)
        try:
            time.sleep(0.3)  # some thirty ticks
        finally:
            processor.stop()
    assert [r.levelno for r in caplog.records] == [logging.WARNING], caplog.text
    assert "database is unavailable" in caplog.records[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    caplog.clear()
    processor.start(0.01)
    try:
        time.sleep(0.1)
    finally:
        processor.stop()
    assert [r.getMessage().endswith("the database is back") for r in caplog.records] == [True]


def test_only_an_unusable_database_counts_as_lost() -> None:
    """SQLite says "no such table" with an OperationalError too: that is a bug, a 500."""
    memory = sqlite3.connect(":memory:")
    try:
        memory.execute("SELECT * FROM nowhere")
    except sqlite3.OperationalError as exc:
        no_table = exc
    memory.close()
    try:
        sqlite3.connect("/nonexistent-folder/gateway.sqlite3")
    except sqlite3.OperationalError as exc:
        cannot_open = exc
    assert database_lost(cannot_open, sqlite3)
    assert database_lost(DBAPIError.instance("SELECT 1", None, cannot_open, sqlite3.Error), sqlite3)
    assert not database_lost(no_table, sqlite3)
    assert not database_lost(KeyError("bug"), sqlite3)
