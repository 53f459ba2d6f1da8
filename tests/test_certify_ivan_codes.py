"""``certify --gateway URL --ivan X --ivan-token T`` checks X and T before any case: a code
no envelope can carry, or a token that is another I-VAN's, failed every case and blamed
the I-VAN under test (the bundled, correct reference I-VAN was judged FAILED)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from harness.catalog import latest_version
from harness.certification.cli import certify
from harness.certification.gateway import PROBE_PREFIX, local_gateway
from harness.errors import ConfigError
from harness.gateway_url import refuse_foreign_token
from harness.identities import token_of
from harness.signing import TestPKI


@pytest.fixture
def gateway_url(tmp_path: Path, pki: TestPKI) -> Iterator[str]:
    """The certification's own gateway (faults, IVAN01 and IVAN02 known) on 127.0.0.1."""
    with local_gateway(latest_version(), pki, tmp_path / "gateway") as gateway:
        yield gateway.url


def _certify(url: str, out: Path, ivan: str, token: str) -> Result:
    args = ["--adapter", "reference", "--gateway", url, "--ivan", ivan, "--ivan-token", token]
    args += ["--case", "CERT-SCH-01@600", "--out", str(out), "--no-progress"]
    return CliRunner().invoke(certify, args)


def test_another_ivans_token_is_refused_before_any_case(gateway_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _certify(gateway_url, out, "IVAN02", token_of("IVAN01"))
    assert result.exit_code == 2, result.output
    assert "the token given for IVAN02 is another I-VAN's" in result.stderr
    assert "ENV-010" in result.stderr and "Hint: pass --ivan" in result.stderr
    assert "verdict" not in result.output and not out.exists()


@pytest.mark.parametrize("code", ["ivan01", "IVÂN01", "IVAN_01"])
def test_a_code_no_envelope_can_carry_is_refused_before_any_case(
    gateway_url: str, tmp_path: Path, code: str
) -> None:
    out = tmp_path / "out"
    result = _certify(gateway_url, out, code, token_of("IVAN01"))
    assert result.exit_code == 2, result.output
    assert f"--ivan {code}: no envelope of catalog" in result.stderr
    assert "Hint: give the I-VAN code" in result.stderr
    assert "verdict" not in result.output and not out.exists()


def test_the_right_pair_runs_and_the_check_is_not_in_the_evidence(
    gateway_url: str, tmp_path: Path
) -> None:
    result = _certify(gateway_url, tmp_path / "out", "IVAN02", token_of("IVAN02"))
    assert result.exit_code == 0, result.output
    [bundle] = (tmp_path / "out").iterdir()
    rows = [json.loads(x) for x in (bundle / "traffic.jsonl").read_text().splitlines()]
    sent = [r for r in rows if (r["method"], r["path"]) == ("POST", "/api/v1/dossiers")]
    # the suite's own requests (its neighbour's dossier, CERT-TOK-01) are tagged as such
    theirs = [r for r in sent if not r["message_id"].startswith(PROBE_PREFIX)]
    assert theirs and all(r["ivan"] == "IVAN02" and r["status"] == 202 for r in theirs)
    assert all(r["ivan"] == "IVAN01" for r in sent if r not in theirs)  # the neighbour only


def test_a_gateway_gone_during_the_token_check_is_said_in_words() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with requests.Session() as session, pytest.raises(ConfigError, match="does not answer"):
        refuse_foreign_token(session, url, "t", "IVAN01", b"<Hoso/>", hint="h")
