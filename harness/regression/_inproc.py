"""The in-process mock gateway as a regression target (``--gateway inproc``).

The one place the regression suite touches ``mock_gateway``, imported lazily and only when
``inproc`` is asked for: like the other suites' command modules, it wires the mock in as
an option, so the rest of ``harness.regression`` speaks only the wire protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from harness.identities import DEFAULT_IVAN_CODE, token_of
from harness.regression.replay import GatewayTarget
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_IVAN_TOKENS, GatewayConfig
from mock_gateway.testing import InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL


def _local_session(session: requests.Session) -> requests.Session:
    """No proxy lookup from the environment: there is no network between us and the core."""
    session.trust_env = False
    return session


@contextmanager
def inproc_target(
    *,
    release: str | None,
    catalogs: tuple[str, ...],
    pki: TestPKI | None,
    ivan: str = DEFAULT_IVAN_CODE,
) -> Iterator[GatewayTarget]:
    """A fresh mock gateway (optionally simulating ``release``) over a temporary database,
    sent to as ``ivan``: the I-VAN the corpus's envelopes name (any other is ENV-010)."""
    tokens = {ivan: token_of(ivan), **DEFAULT_IVAN_TOKENS}
    config = GatewayConfig(catalog_versions=catalogs, release=release, ivan_tokens=tokens)
    # A throw-away database: durability across power loss buys nothing here.
    neighbour = next(code for code in sorted(tokens) if code != ivan)  # the isolation check's
    with InProcessGateway(config, pki=pki, sqlite_synchronous="NORMAL") as local:
        local.gateway.warm_up()
        yield GatewayTarget(
            DEFAULT_BASE_URL,
            local.token(ivan),
            local.token("admin"),
            name="inproc" + (f"[{release}]" if release else ""),
            session_factory=lambda: _local_session(local.session(DEFAULT_BASE_URL, ivan=None)),
            neighbour=(neighbour, local.token(neighbour)),
        )
