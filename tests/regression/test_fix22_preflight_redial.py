"""The pre-flight checks try a dropped connection again before calling the gateway down:
one transient reset (``serve --faults connection-reset``) must not end the run as exit 2."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from harness.errors import ConfigError
from harness.regression import build_corpus, preflight
from harness.regression._inproc import inproc_target
from harness.regression.corpus import CorpusRecipe
from harness.regression.preflight import check_gateway, probe_body
from harness.regression.replay import GatewayTarget
from harness.signing import TestPKI
from mock_gateway.transport import DEFAULT_BASE_URL


class _Resetting(BaseAdapter):
    """Drops the connection of the first ``times`` POSTs, then sends through ``inner``."""

    def __init__(self, inner: BaseAdapter, times: int, sent: list[str]) -> None:
        super().__init__()
        self.inner, self.times, self.sent = inner, times, sent

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(str(request.method))
        if request.method == "POST" and self.times > 0:
            self.times -= 1
            raise requests.ConnectionError("Connection reset by peer")
        return self.inner.send(request, *args, **kwargs)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def probe(pki: TestPKI) -> bytes | None:
    return probe_body(build_corpus(CorpusRecipe("2026.1", procedures=("604",)), pki))


def _resetting(times: int, pki: TestPKI, sent: list[str]) -> Iterator[GatewayTarget]:
    with inproc_target(release=None, catalogs=(), pki=pki) as target:
        factory = target.session_factory
        assert factory is not None

        def session() -> requests.Session:
            opened = factory()
            prefix = DEFAULT_BASE_URL + "/"
            opened.mount(prefix, _Resetting(opened.get_adapter(prefix), times, sent))
            return opened

        target.session_factory = session
        yield target


def test_one_reset_of_the_probe_is_tried_again(
    pki: TestPKI, probe: bytes | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "time", SimpleNamespace(sleep=lambda _s: None), raising=False)
    sent: list[str] = []
    for target in _resetting(1, pki, sent):
        check_gateway(target, ivan="IVAN01", probe=probe, ivan_hint="")  # no ConfigError
    assert sent.count("POST") >= 2


def test_a_connection_that_keeps_dropping_still_says_the_gateway_does_not_answer(
    pki: TestPKI, probe: bytes | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(preflight, "time", SimpleNamespace(sleep=pauses.append), raising=False)
    sent: list[str] = []
    for target in _resetting(99, pki, sent):
        with pytest.raises(ConfigError, match="does not answer"):
            check_gateway(target, ivan="IVAN01", probe=probe, ivan_hint="")
    assert sent.count("POST") == 3 and len(pauses) == 2  # twice more, then concluded
