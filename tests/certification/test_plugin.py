"""The pytest plugin: a vendor's own extra case runs with ``gateway``, ``ivan_client`` and
``dossier_factory``, found through the ``pytest11`` entry point of the installed package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.signing import TestPKI
from tests.inner_pytest import inner_env

VENDOR_CASE = """
def test_my_ivan_survives_a_burst_and_reads_its_messages(gateway, ivan_client, dossier_factory):
    procedure = next(iter(dossier_factory.catalog.procedures))
    dossier = dossier_factory.build(procedure, seed=11)
    gateway.set_faults([{"name": "burst-503", "params": {"count": 2, "retry_after": None}}], 0)
    answer = ivan_client.submit(dossier.envelope)
    assert answer.accepted, answer.raw
    assert [e["kind"] for e in gateway.fault_events()][-2:] == ["unavailable", "unavailable"]
    gateway.advance(2 * 3600)
    assert {m.kind for m in ivan_client.poll_and_ack()} == {"02/TB-TS", "03/TB-TS"}
    status = gateway.probe(answer.ma_gdich)
    assert all(m.acked_at for m in status.feed)


def test_each_test_starts_from_a_clean_gateway(gateway):
    assert [r for r in gateway.traffic() if r.path == "/api/v1/dossiers"] == []


def test_a_bad_fault_value_says_which_and_why(gateway):
    import pytest
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="REQ-002: .*count must be a whole number .*, not -2"):
        gateway.set_faults([{"name": "burst-503", "params": {"count": -2}}], 0)
"""


def test_vendor_cases_run_with_the_plugin_fixtures(tmp_path: Path, pki: TestPKI) -> None:
    (tmp_path / "test_vendor.py").write_text(VENDOR_CASE, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q"]
    command += ["-p", "no:cacheprovider", "-W", "error", "test_vendor.py"]
    done = subprocess.run(
        command, cwd=tmp_path, env=inner_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
