"""A candidate whose answers to chosen requests are a bare 500 (or 503: unavailable), for
the tests of what ``regress`` makes of a build that fails (dossiers, acknowledgements, its
catalog)."""

from __future__ import annotations

import dataclasses
import importlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

import harness.regression._inproc as inproc
from harness.regression.replay import GatewayTarget
from harness.regression.transport import WrappingAdapter, wrapped

replay_module = importlib.import_module("harness.regression.replay")  # the package's
# ``replay`` attribute is the function of that name
Breaks = Callable[[requests.PreparedRequest], bool]


def is_ack(request: requests.PreparedRequest) -> bool:
    """``POST /api/v1/messages/{id}/ack``: an I-VAN acknowledging a feed message."""
    return request.method == "POST" and str(request.url).endswith("/ack")


REASONS = {500: "Internal Server Error", 503: "Service Unavailable"}


class Breaking(WrappingAdapter):
    """Answers ``status`` (500: no BHXH code) to the requests ``breaks`` picks; counts each."""

    def __init__(
        self, inner: BaseAdapter, breaks: Breaks, sent: Counter[str], status: int = 500
    ) -> None:
        super().__init__(inner)
        self.breaks, self.sent, self.status = breaks, sent, status

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if not self.breaks(request):
            return super().send(request, *args, **kwargs)
        self.sent[str(request.headers.get("X-Message-Id", request.url))] += 1
        response = requests.Response()
        response.status_code, response.reason = self.status, REASONS[self.status]
        response.url, response.request = str(request.url), request
        response._content = b"<error>internal</error>"
        return response


def breaking(monkeypatch: pytest.MonkeyPatch, breaks: Breaks, status: int = 500) -> Counter[str]:
    """Every in-process target answers ``status`` to what ``breaks`` picks; the back-off is
    kept tiny (the run must conclude, not wait) and counted against a small cap."""
    real, sent = inproc.inproc_target, Counter[str]()
    monkeypatch.setattr(
        replay_module, "RETRY", dataclasses.replace(replay_module.RETRY, base_delay=0.001)
    )

    @contextmanager
    def broken(**options: Any) -> Iterator[GatewayTarget]:
        with real(**options) as target:
            factory = target.session_factory
            assert factory is not None
            target.session_factory = lambda: wrapped(
                factory(), lambda adapter: Breaking(adapter, breaks, sent, status)
            )
            yield target

    monkeypatch.setattr(inproc, "inproc_target", broken)
    return sent
