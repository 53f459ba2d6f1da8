"""A load run against an HTTPS gateway whose certificate a private CA signed (a staging URL).

Before ``--ca-bundle`` and ``--insecure``, the pre-flight check refused such a gateway
("does not answer: SSLError") while locust's users, which verify nothing by default,
would have accepted any certificate. Now both sides verify the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.load import run_load
from harness.load.cli import load
from harness.load.gateway import check_remote, well_known_tokens
from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway
from tests.tls import self_signed


@pytest.fixture(scope="module")
def https_gateway(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    tls = self_signed(tmp_path_factory.mktemp("tls"))
    with (
        InProcessGateway(pki=pki, clock_speed=900) as gw,
        LocalServer(gw.gateway, tls=tls) as server,
    ):
        server.certificate = tls[0]  # type: ignore[attr-defined]
        yield server


def test_an_untrusted_certificate_stops_the_run_with_a_hint(https_gateway: LocalServer) -> None:
    with pytest.raises(ConfigError) as caught:
        check_remote(https_gateway.url, well_known_tokens(2))
    assert "TLS certificate is not trusted" in str(caught.value)
    assert "--ca-bundle" in str(caught.value.hint)
    outcome = CliRunner().invoke(load, ["--gateway", https_gateway.url, "--duration", "3"])
    assert outcome.exit_code == 2 and "--ca-bundle FILE" in outcome.output


def test_the_ca_bundle_or_insecure_lets_the_check_through(https_gateway: LocalServer) -> None:
    bundle = str(https_gateway.certificate)  # type: ignore[attr-defined]
    assert check_remote(https_gateway.url, well_known_tokens(2), verify=bundle) == 900.0
    assert check_remote(https_gateway.url, well_known_tokens(2), verify=False) == 900.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gateway", "local", "--insecure"], "need an https:// gateway"),
        (["--gateway", "https://127.0.0.1:9", "--insecure", "--ca-bundle", __file__], "choose one"),
    ],
)
def test_tls_options_that_cannot_apply_are_usage_errors(args: list[str], message: str) -> None:
    outcome = CliRunner().invoke(load, [*args, "--duration", "3"])
    assert outcome.exit_code == 2 and message in outcome.output


def test_locust_users_verify_with_the_ca_bundle(https_gateway: LocalServer, tmp_path: Path) -> None:
    """Submissions and the feed cross TLS checked against --ca-bundle: no request fails."""
    result = run_load(
        https_gateway.url,
        "month-end",
        duration=4,
        ca_bundle=https_gateway.certificate,  # type: ignore[attr-defined]
        out=tmp_path,
    )
    m = result.measurements
    assert m.accepted > 0 and m.steps["submit"].failures == 0, result.summary()
    assert "--ca-bundle" in (result.directory / "results.json").read_text(encoding="utf-8")
