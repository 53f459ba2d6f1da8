"""Rows and lifecycle steps the store tests write: a stored dossier and its 02/03 steps."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from mock_gateway.records import Issue, NewDossier

DUE = "2024-07-01T00:15:00.000000Z"
"""When the lifecycle processor would take a dossier up (``due=DUE``)."""


def new_dossier(
    message_id: str | None = None, ivan: str = "IVAN01", *, due: str | None = None
) -> NewDossier:
    """A received dossier of procedure 600; a fresh message id unless one is given."""
    return NewDossier(
        ma_gdich=uuid.uuid4().hex,
        ivan=ivan,
        message_id=message_id or uuid.uuid4().hex,
        body_sha256=uuid.uuid4().hex,
        body=b"<Hoso/>",
        procedure="600",
        period="07/2024",
        unit="ABC1234",
        received_at="2024-07-01T00:00:00.000000Z",
        catalog_version="2024.1",
        next_due_at=due,
        summary={},
    )


def _slip(number: int | None) -> tuple[bytes, str | None]:
    return f"<slip n='{number}'/>".encode(), f"{number:05d}/2024/00100"


def handover_step(
    d: NewDossier, render: Callable[[int | None], tuple[bytes, str | None]] = _slip
) -> Issue:
    """The 02/TB-TS step of ``d``, numbered in one SO_HSO scope."""
    return _step(d, "handed_over", "02/TB-TS", "so_hso:2024:00100", render)


def result_step(d: NewDossier) -> Issue:
    """The 03/TB-TS step of ``d`` (no number)."""
    return _step(d, "accepted", "03/TB-TS", None, lambda _n: (b"<THONGBAO/>", None))


def _step(
    d: NewDossier,
    to_status: str,
    kind: str,
    scope: str | None,
    render: Callable[[int | None], tuple[bytes, str | None]],
) -> Issue:
    return Issue(
        ma_gdich=d.ma_gdich,
        ivan=d.ivan,
        from_status="received",
        to_status=to_status,
        next_due_at=None,
        kind=kind,
        message_id=uuid.uuid4().hex,
        created_at="2024-07-01T00:15:00.000000Z",
        number_scope=scope,
        render=render,
    )
