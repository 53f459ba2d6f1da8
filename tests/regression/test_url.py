"""Against a URL: only the URL, tokens and a TLS option; nothing assumes the in-process gateway.

The mock gateway runs as a real HTTP server in a subprocess. The baseline is recorded with
an admin token (the clock is fast-forwarded through the admin API); the candidate is
replayed without one, so the harness polls the feed until every result arrived (the
server's simulated clock runs fast so that takes about a second).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.regression import record, regress
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS
from mock_gateway.testing import ServerProcess
from tests.regression.conftest import FUNCTIONAL


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("regression-http")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=20_000.0) as running:
        yield running


def test_record_with_admin_token_and_regress_by_polling(
    server: ServerProcess, pki: TestPKI, tmp_path: Path
) -> None:
    token = DEFAULT_IVAN_TOKENS["IVAN01"]
    baseline, _ = record(
        gateway=server.url, catalog="2026.1", name="http", procedures=("604",), root=tmp_path,
        pki=pki, token=token, admin_token=DEFAULT_ADMIN_TOKEN, verify_tls=True,
    )  # fmt: skip
    assert baseline.gateway == server.url
    assert [m["kind"] for m in baseline.outcomes["604/valid-0000"]["messages"]] == [
        "02/TB-TS",
        "03/TB-TS",
    ]
    result = regress(
        baseline="http", gateway=server.url, root=tmp_path, pki=pki, token=token,
        poll_timeout=30.0, poll_interval=0.2, thresholds=FUNCTIONAL,
    )  # fmt: skip
    assert result.notes == []
    assert result.ok, [str(d) for d in result.unintended[:5]]
