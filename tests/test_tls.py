"""``--ca-bundle`` and ``--insecure`` against an HTTPS gateway, with ``$REQUESTS_CA_BUNDLE`` set.

Where that variable is set (many companies set it for their proxy's CA, and this machine
does), requests used to ignore a session's ``verify``: ``record --ca-bundle`` failed with
"certificate verify failed", ``--insecure`` still checked, and ``fuzz`` reported the TLS
failure as a gateway crash and saved "minimal dossiers" for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import ConfigError
from harness.signing import TestPKI
from harness.tls import GatewaySession, gateway_session, reach, verify_option
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway
from tests.regression.conftest import LENIENT
from tests.tls import self_signed

SYSTEM_BUNDLE = certifi.where()  # any bundle that exists, standing for the company's


@pytest.fixture(autouse=True)
def company_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a company machine: the environment names a CA bundle for every client."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", SYSTEM_BUNDLE)


@pytest.fixture(scope="module")
def https(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS gateway's URL and the certificate that signs itself (its CA bundle)."""
    certificate, key = self_signed(tmp_path_factory.mktemp("tls"))
    with InProcessGateway(pki=pki) as gw, LocalServer(gw.gateway, tls=(certificate, key)) as srv:
        yield srv.url, certificate


@pytest.mark.parametrize("verify", [False, "/some/bundle.pem"])
def test_the_sessions_choice_wins_over_the_environment(verify: bool | str) -> None:
    merged = GatewaySession()
    merged.verify = verify
    settings = merged.merge_environment_settings("https://gw", {}, None, None, None)
    assert settings["verify"] == verify  # a plain requests.Session gives SYSTEM_BUNDLE


def test_with_no_choice_the_environment_still_applies() -> None:
    settings = gateway_session().merge_environment_settings("https://gw", {}, None, None, None)
    assert settings["verify"] == SYSTEM_BUNDLE


def test_closing_a_session_closes_its_connections_though_an_answer_is_kept(
    https: tuple[str, Path],
) -> None:
    """urllib3 2 closes a pool's connections only when the pool is garbage: a kept answer
    kept them open, and this module's HTTPS server waited 10 s for them at every stop."""
    url, certificate = https
    session = gateway_session(str(certificate))
    kept = session.get(f"{url}/healthz", timeout=10)
    assert kept.status_code == 200
    pools = session.get_adapter(url).poolmanager.pools
    (pool,) = (pools.get(key) for key in pools.keys())  # noqa: SIM118 (a copy, thread-safe)
    assert pool is not None and pool.num_connections == 1 and pool.pool is not None
    session.close()
    assert pool.pool is None  # closed, with the connection it held


def test_the_reference_client_closes_its_connections_when_its_block_ends(
    https: tuple[str, Path],
) -> None:
    from harness.client import IvanClient

    url, certificate = https
    with IvanClient(url, "a-token", verify_tls=str(certificate)) as client:
        assert client.session.get(f"{url}/healthz", timeout=10).status_code == 200
        pools = client.session.get_adapter(url).poolmanager.pools
        assert len(pools) == 1
    assert len(pools) == 0


def test_reach_says_what_to_do(https: tuple[str, Path]) -> None:
    url, certificate = https
    with pytest.raises(ConfigError) as caught:
        reach(gateway_session(), url)
    assert "not trusted" in str(caught.value) and "--ca-bundle" in str(caught.value.hint)
    assert reach(gateway_session(str(certificate)), url).status_code == 200
    assert reach(gateway_session(False), url).status_code == 200
    with pytest.raises(ConfigError, match="does not answer"):
        reach(gateway_session(), "https://127.0.0.1:9")


def test_a_certificate_for_another_host_name_is_not_blamed_on_the_ca(
    https: tuple[str, Path],
) -> None:
    """The right --ca-bundle, a host name the certificate does not cover: "pass
    --ca-bundle" sent the user after a file they had already given."""
    url, certificate = https
    with pytest.raises(ConfigError) as caught:
        reach(gateway_session(str(certificate)), url.replace("127.0.0.1", "localhost"))
    said = str(caught.value)
    assert "not valid for that host name (Hostname mismatch" in said and "'localhost'" in said
    assert "--ca-bundle" not in str(caught.value.hint)
    assert "host name or address the certificate was issued for" in str(caught.value.hint)


def test_both_options_at_once_are_refused() -> None:
    with pytest.raises(ConfigError, match="exclude each other"):
        verify_option(True, "bundle.pem")


def _cli(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, list(args))
    return outcome.exit_code, outcome.output


def test_record_and_regress_over_https(https: tuple[str, Path], tmp_path: Path) -> None:
    url, certificate = https
    target = ["--gateway", url, "--token", "test-token-IVAN01", "--admin-token", "test-admin-token"]
    corpus = ["--root", str(tmp_path / "baselines"), "--procedure", "600"]
    code, output = _cli("record", *target, *corpus, "--name", "tls")
    assert code == 2 and "TLS certificate is not trusted" in output and "Traceback" not in output
    code, output = _cli(
        "record", *target, *corpus, "--name", "tls", "--ca-bundle", str(certificate)
    )
    assert code == 0, output
    code, output = _cli(
        "regress", *target, "--root", str(tmp_path / "baselines"), "--baseline", "tls",
        "--insecure", "--out", str(tmp_path / "reports"),
        *LENIENT,  # outcomes over TLS are the subject; latency on a busy box is noise
    )  # fmt: skip
    assert code == 0 and "PASSED" in output, output


def test_fuzz_over_https_and_no_finding_for_an_untrusted_certificate(
    https: tuple[str, Path], tmp_path: Path
) -> None:
    url, certificate = https
    common = [
        "fuzz",
        "--gateway",
        url,
        "--token",
        "test-token-IVAN01",
        "--budget",
        "6",
        "--procedure",
        "600",
        "--family",  # six cases: the valid dossiers, not every mutant family
        "valid",
    ]
    paths = ["--out", str(tmp_path / "reports"), "--found", str(tmp_path / "found")]
    code, output = _cli(*common, *paths)
    assert code == 2 and "--ca-bundle FILE" in output
    assert not (tmp_path / "found").exists() and not (tmp_path / "reports").exists()
    code, output = _cli(*common, *paths, "--ca-bundle", str(certificate))
    assert code == 0 and "PASSED" in output, output


def test_certify_over_https_with_the_ca_bundle(pki: TestPKI, tmp_path: Path) -> None:
    """The harness and the reference I-VAN both trust --ca-bundle; without it, a hint."""
    from mock_gateway.faulty_app import FaultyGateway, create_faulty_app

    certificate, key = self_signed(tmp_path)
    with InProcessGateway(pki=pki) as gw:
        app = create_faulty_app(FaultyGateway(gw.gateway), close=False)
        with LocalServer(gw.gateway, tls=(certificate, key), app=app) as server:
            args = ["certify", "--adapter", "reference", "--gateway", server.url]
            args += ["--procedures", "600", "--no-progress", "--out", str(tmp_path / "r")]
            code, output = _cli(*args, "--case", "CERT-SCH-01")
            assert code == 2 and "TLS certificate is not trusted" in output
            assert "--ca-bundle FILE" in output and "Traceback" not in output
            code, output = _cli(*args, "--ca-bundle", str(certificate))
    assert code == 0 and "verdict: PASSED" in output, output
    assert f"--ca-bundle {certificate}" in next((tmp_path / "r").glob("*/results.json")).read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("verify", [True, False])
def test_https_to_a_plain_http_gateway_says_to_use_http(pki: TestPKI, verify: bool) -> None:
    """--insecure cannot help a gateway with no TLS; the hint must not suggest it."""
    with InProcessGateway(pki=pki) as gw, LocalServer(gw.gateway) as plain:
        url = plain.url.replace("http://", "https://")
        with pytest.raises(ConfigError, match="does not speak TLS") as caught:
            reach(gateway_session(verify), url)
    assert "http://" in str(caught.value.hint) and "--insecure" not in str(caught.value.hint)
