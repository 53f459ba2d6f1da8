"""The plugin's options: a wrong one stops the run before any test with one line and a
hint, a shared ``--bhxh-gateway`` is refused under pytest-xdist, and a gateway served with
its own credentials is used through ``--bhxh-ivan-token`` / ``--bhxh-admin-token``."""

from __future__ import annotations

import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from harness.signing import TestPKI
from tests.certification.plugin_vendor import outcomes, run_vendor
from tests.certification.test_remote import serve

USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR

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


def serve_with_tokens(folder: Path, pki: TestPKI) -> AbstractContextManager[str]:
    """The mock gateway with fault injection, served with credentials of its own."""
    folder.mkdir()
    tokens = {"IVAN01": "vendor-secret-1", "IVAN02": "vendor-secret-2"}
    factory = "mock_gateway.faulty_app:app_factory"
    return serve(factory, folder, pki, ivan_tokens=tokens, admin_token="admin-secret")


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
        (["--bhxh-gateway", "http://127.0.0.1:18899"], ["connection was refused", "Hint: is it"]),
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
