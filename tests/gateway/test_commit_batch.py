"""The ASGI app commits the dossiers checked in one turn of its event loop together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from harness.dossiers.factory import Dossier
from mock_gateway.app import create_app
from mock_gateway.testing import Answer, InProcessGateway

HEADERS = {"Authorization": "Bearer test-token-IVAN01", "Content-Type": "application/xml"}


async def _submit_all(app: object, bodies: list[bytes]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/v1/dossiers",
                    content=body,
                    headers={**HEADERS, "X-Message-Id": f"batch-{index}"},
                )
                for index, body in enumerate(bodies)
            )
        )


def test_concurrent_dossiers_share_one_transaction(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    app = create_app(gw.gateway, background=False, close=False)
    twice = valid().envelope
    bodies = [valid().envelope for _ in range(6)] + [twice, twice]
    answers = asyncio.run(_submit_all(app, bodies))
    assert [a.status_code for a in answers] == [202] * 8
    batch = app.state.commit_batch
    assert batch.committed == 8 and batch.flushes == 1  # one transaction, one fsync
    receipts = {Answer.parse(a.content).ma_gdich for a in answers}
    assert len(receipts) == 8  # the two equal bodies had two message ids
    assert gw.gateway.store.counts()["dossiers"] == 8
    for answer in answers:  # every receipt names a stored dossier of the right I-VAN
        ma_gdich = Answer.parse(answer.content).ma_gdich
        assert gw.gateway.store.dossier("IVAN01", ma_gdich) is not None


def test_a_failed_batch_answers_every_request_and_stores_nothing(
    gw: InProcessGateway, valid: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(gw.gateway.store, "save_many", broken)
    app = create_app(gw.gateway, background=False, close=False)
    answers = asyncio.run(_submit_all(app, [valid().envelope for _ in range(3)]))
    assert [a.status_code for a in answers] == [500] * 3
    assert {a.headers["X-BHXH-Ma-Loi"] for a in answers} == {"SRV-002"}
    assert gw.gateway.store.counts()["dossiers"] == 0


def test_a_request_cancelled_while_waiting_is_still_stored_and_logged(
    gw: InProcessGateway, valid: Callable[..., Dossier]
) -> None:
    app = create_app(gw.gateway, background=False, close=False)
    body = valid().envelope
    headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/dossiers",
        "raw_path": b"/api/v1/dossiers",
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"x-message-id", b"cancelled-1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(_message: object) -> None:
        return None

    async def cancel_while_waiting() -> None:
        task = asyncio.create_task(app(scope, receive, send))
        await asyncio.sleep(0)  # the request is checked and waits for its batch
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())
    assert gw.gateway.store.counts()["dossiers"] == 1
    rows = [r for r in gw.gateway.traffic_log() if r["message_id"] == "cancelled-1"]
    assert [r["status"] for r in rows] == [202]
