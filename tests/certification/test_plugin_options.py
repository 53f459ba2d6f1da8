"""The plugin's options: a wrong one stops the run before any test with one line and a
hint, a shared ``--bhxh-gateway`` is refused under pytest-xdist, and a gateway served with
its own credentials is used through ``--bhxh-ivan-token`` / ``--bhxh-admin-token``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from harness.catalog import latest_version
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from tests.certification.plugin_vendor import outcomes, run_vendor

USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR
PORTS = range(18800, 18900)  # this test's servers stay in this range

VENDOR = """
def test_one(gateway):
    assert gateway.traffic() == []

def test_two(gateway, ivan_client, dossier_factory):
    procedure = next(iter(dossier_factory.catalog.procedures))
    assert ivan_client.submit(dossier_factory.build(procedure, seed=5).envelope).accepted
    assert {r.ivan for r in gateway.traffic()} == {"IVAN01"}

def test_three(gateway):
    assert gateway.fault_events() == []
"""


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18800-18899")


@contextmanager
def serve_with_tokens(folder: Path, pki: TestPKI) -> Iterator[str]:
    """The mock gateway with fault injection, served with credentials of its own."""
    port = _free_port()
    folder.mkdir()
    config = GatewayConfig(
        database_url=f"sqlite:///{folder / 'gateway.sqlite3'}",
        clock_speed=0.0,
        catalog_versions=(latest_version(),),
        pki_directory=str(pki.directory),
        ivan_tokens={"IVAN01": "vendor-secret-1", "IVAN02": "vendor-secret-2"},
        admin_token="admin-secret",
    )
    env = dict(os.environ)
    config.to_env(env)
    command = [sys.executable, "-m", "uvicorn", "--factory", "mock_gateway.faulty_app:app_factory"]
    process = subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The run stopped as a usage error with a short message holding ``words``."""
    text = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, text
    assert len(text.splitlines()) <= 6, text
    assert "Traceback" not in text, text
    for word in words:
        assert word in text, text
    return text


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bhxh-gateway", "http://127.0.0.1:18899"], ["cannot reach", "Hint: is it running"]),
        (["--bhxh-catalog", "2099"], ["--bhxh-catalog '2099'", "Hint: known versions"]),
        (["--bhxh-gateway", "ftp://x"], ["must start with http://", "Hint:"]),
        (["--bhxh-ivan-token", "t"], ["only for --bhxh-gateway"]),
        (["--bhxh-ivan", "IVAN09"], ["not an I-VAN of the local gateway", "Hint: use one of"]),
    ],
    ids=["unreachable", "unknown-catalog", "not-http", "token-without-url", "unknown-ivan"],
)
def test_a_wrong_option_is_one_usage_error_not_a_traceback_per_test(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    _refused(run_vendor(tmp_path, VENDOR, *args), *words)


def test_xdist_workers_may_not_share_a_gateway_url(tmp_path: Path) -> None:
    env = {"PYTEST_XDIST_WORKER": "gw1"}
    done = run_vendor(tmp_path, VENDOR, "--bhxh-gateway", "http://127.0.0.1:18899", env=env)
    _refused(done, "pytest-xdist", "Hint: run with -p no:xdist")


def test_a_gateway_served_with_its_own_credentials(tmp_path: Path, pki: TestPKI) -> None:
    with serve_with_tokens(tmp_path / "gateway", pki) as url:
        default = run_vendor(tmp_path, VENDOR, "--bhxh-gateway", url)
        _refused(default, "refuses the I-VAN credential of IVAN01", "--bhxh-ivan-token")
        ivan = ["--bhxh-gateway", url, "--bhxh-ivan-token", "vendor-secret-1"]
        _refused(run_vendor(tmp_path, VENDOR, *ivan), "admin credential", "--bhxh-admin-token")
        admin = ["--bhxh-admin-token", "admin-secret", "-v"]  # -q -v: the header shows
        done = run_vendor(tmp_path, VENDOR, *ivan, *admin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(outcomes(tmp_path).values()) == {"passed"}
    assert f"gateway {url} is reset by every test" in done.stdout
