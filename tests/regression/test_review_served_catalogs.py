"""A gateway whose served catalogs cannot be read (401, 503, no answer) is noted in the
run's report: the catalog-removal check is then not judged, and must not pass silently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

import harness.regression._inproc as inproc
from harness.regression import Baseline, regress
from harness.regression.replay import GatewayTarget
from harness.regression.report import summary_lines
from harness.signing import TestPKI
from mock_gateway.transport import DEFAULT_BASE_URL
from tests.regression.conftest import FUNCTIONAL

CATALOG = "/api/v1/catalog"


class _Refusing(BaseAdapter):
    """Answers every request with ``status`` (0: the connection is refused)."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    def send(self, request: requests.PreparedRequest, *_args: Any, **_kw: Any) -> Any:
        if not self.status:
            raise requests.ConnectionError("refused")
        response = requests.Response()
        response.status_code, response.url, response.request = self.status, request.url, request
        response.reason = {401: "Unauthorized", 503: "Service Unavailable"}[self.status]
        response._content = b"<Loi><MA_LOI>SRV-001</MA_LOI></Loi>"
        return response

    def close(self) -> None:
        return None


def _catalog_answers(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    """Every in-process target answers ``GET /api/v1/catalog`` with ``status``."""
    real = inproc.inproc_target

    @contextmanager
    def refusing(**options: Any) -> Iterator[GatewayTarget]:
        with real(**options) as target:
            factory = target.session_factory
            assert factory is not None

            def session() -> requests.Session:
                opened = factory()
                opened.mount(DEFAULT_BASE_URL.rstrip("/") + CATALOG, _Refusing(status))
                return opened

            target.session_factory = session
            yield target

    monkeypatch.setattr(inproc, "inproc_target", refusing)


@pytest.mark.parametrize(
    ("status", "why"),
    [(503, "503 Service Unavailable"), (401, "401 Unauthorized"), (0, "ConnectionError")],
)
def test_unreadable_served_catalogs_are_a_note_in_the_report(
    status: int,
    why: str,
    reference: Baseline,
    baselines: Any,
    pki: TestPKI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert reference.catalogs  # the baseline's gateway served them
    _catalog_answers(monkeypatch, status)
    result = regress(
        baseline=reference.name, gateway="inproc", root=baselines, pki=pki, thresholds=FUNCTIONAL
    )
    note = f"the served catalogs could not be read ({why}); catalog removal not judged"
    assert note in result.notes
    assert f"note: {note}" in summary_lines(result)
    assert "catalog-removed" not in result.kinds()
