"""Mistakes a user makes with ``certify`` are one line that says what is wrong and what
to do (exit 2): a mistyped digest, a URL where no gateway answers, TLS that cannot help,
a number that is not one, an adapter name in capitals. Never a class name or urllib3's
retry text, and nothing written."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.certification.cli import certify
from harness.reporting import ReportBundle, RunInfo, bundle_digest


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    info = RunInfo(run_id="r1", suite="certification", title="t", started_at="2026-01-01")
    return ReportBundle(info, tmp_path / "r1").write()


@pytest.mark.parametrize("digest", ["abc", "", "sha256:", "f" * 63, "g" * 64])
def test_a_digest_that_is_not_64_hex_digits_is_a_usage_error(bundle: Path, digest: str) -> None:
    result = CliRunner().invoke(certify, ["verify", str(bundle), "--digest", digest])
    assert result.exit_code == 2, result.output
    assert "is not a digest: give the 64 hexadecimal digits" in result.output
    assert "problem(s)" not in result.output  # not "the bundle changed"


def test_a_sha256_prefix_and_capitals_name_the_same_digest(bundle: Path) -> None:
    digest = bundle_digest(bundle)
    for spelt in (f"sha256:{digest}", digest.upper(), f"SHA256:{digest.upper()}", f" {digest} "):
        result = CliRunner().invoke(certify, ["verify", str(bundle), "--digest", spelt])
        assert result.exit_code == 0, result.output
        assert "bundle intact against the published digest" in result.output


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _certify(tmp_path: Path, *args: str) -> tuple[int, str]:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        certify, ["--adapter", "reference", "--out", str(out), "--no-progress", *args]
    )
    assert not out.exists()  # refused before any case
    return result.exit_code, result.output


def test_a_closed_port_is_said_in_words(tmp_path: Path, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    code, output = _certify(tmp_path, "--gateway", url)
    assert code == 2, output
    assert f"the gateway at {url} does not answer: the connection was refused" in output
    assert "Hint: check --gateway" in output
    assert "Max retries" not in output and "HTTPConnectionPool" not in output


def test_a_web_server_that_is_not_the_gateway_is_refused(tmp_path: Path, web_server: str) -> None:
    code, output = _certify(tmp_path, "--gateway", f"http://{web_server}")
    assert code == 2, output
    assert (
        f"the gateway at http://{web_server} does not answer as a BHXH mock gateway: "
        "GET /healthz answered 404 text/html"
    ) in output
    assert "<html" not in output.lower() and "<!doctype" not in output.lower()


def test_https_to_a_plain_http_server_says_it_does_not_speak_tls(
    tmp_path: Path, web_server: str
) -> None:
    code, output = _certify(tmp_path, "--gateway", f"https://{web_server}")
    assert code == 2 and "does not speak TLS" in output, output
    assert "not trusted" not in output and "--insecure" not in output


def test_a_ca_bundle_that_is_not_pem_is_named(tmp_path: Path, web_server: str) -> None:
    bad = tmp_path / "ca.der"
    bad.write_bytes(b"\x30\x82\x01\x0a not a certificate")
    code, output = _certify(tmp_path, "--gateway", f"https://{web_server}", "--ca-bundle", str(bad))
    assert code == 2 and f"--ca-bundle {bad} is not a PEM CA bundle" in output, output
    assert "not trusted" not in output


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_client_timeout_that_is_not_finite_is_refused_at_the_option(
    tmp_path: Path, value: str
) -> None:
    code, output = _certify(tmp_path, "--client-timeout", value)
    assert code == 2 and "'--client-timeout'" in output and "not a finite number" in output
    assert "client_timeout" not in output


def test_help_says_the_adapter_is_required() -> None:
    shown = CliRunner().invoke(certify, ["--help"], terminal_width=200).output
    assert "--adapter TEXT" in shown and "Required" in shown.split("--adapter TEXT")[1][:60]


@pytest.mark.parametrize(
    ("spec", "meant"),
    [("REFERENCE", "reference"), ("Manual", "manual"), ("Faulty:never-acks", "faulty:never-acks")],
)
def test_a_built_in_adapter_in_capitals_suggests_its_name(
    tmp_path: Path, spec: str, meant: str
) -> None:
    result = CliRunner().invoke(certify, ["--adapter", spec, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"did you mean '{meant}'?" in result.stderr
    assert "add {dossier}" not in result.stderr
