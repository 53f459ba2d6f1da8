"""``bhxh-harness serve``'s log: the gateway's own INFO lines reach it (admin actions went
nowhere: its loggers had no handler), and a store holding dossiers of catalog versions
not served now is said once at start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from harness.signing import TestPKI
from mock_gateway import server
from mock_gateway.config import GatewayConfig
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway, ServerProcess
from tests.gateway.conftest import ValidDossiers

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _stored_2024(pki: TestPKI, folder: Path, valid: ValidDossiers) -> Path:
    """A store holding one dossier accepted under catalog 2024.1."""
    config = GatewayConfig(catalog_versions=("2024.1", "2026.1"))
    with InProcessGateway(config, pki=pki, directory=folder) as gw:
        assert gw.submit(valid().envelope).status == 202
        return gw.database_path


def test_the_serve_log_says_admin_actions_and_unserved_catalogs(
    pki: TestPKI, tmp_path: Path, valid: ValidDossiers
) -> None:
    database = _stored_2024(pki, tmp_path, valid)
    extra = ("--catalog", "2026.1", "--log-level", "info")
    with ServerProcess(database, extra=extra) as running:
        advanced = requests.post(
            f"{running.url}/admin/clock/advance?seconds=60", headers=ADMIN, timeout=30
        )
        assert advanced.status_code == 200
        plan = {"spec": "latency:seconds=0.01"}
        put = requests.put(f"{running.url}/admin/faults", json=plan, headers=ADMIN, timeout=30)
        assert put.status_code == 200
    log = running.log.read_text(encoding="utf-8")
    said = "the store holds dossiers of catalog versions not served now: 2024.1 (1 dossier)"
    assert f"WARNING:  {said} (served: 2026.1)" in log
    assert "continues under the version each was accepted under" in log
    assert "new dossiers for periods before 01/2026 are refused (ENV-009)" in log
    assert "INFO:     admin advanced the simulated clock by 60 s" in log
    assert "INFO:     admin set the fault plan of every worker: latency:seconds=0.01" in log
    assert "test-admin-token" not in log


def test_no_note_when_every_stored_version_is_served(
    pki: TestPKI, tmp_path: Path, valid: ValidDossiers, caplog: pytest.LogCaptureFixture
) -> None:
    database = _stored_2024(pki, tmp_path, valid)
    caplog.set_level(logging.INFO, logger="mock_gateway")
    url = f"sqlite:///{database}"
    server.note_unserved_catalogs(GatewayConfig(database_url=url, catalog_versions=("2024.1",)))
    assert caplog.records == []
    store = Store(url)
    try:
        assert server.stored_versions(store) == {"2024.1": 1}
    finally:
        store.close()


@pytest.mark.parametrize(("level", "per_request"), [("info", "WARNING"), ("debug", "DEBUG")])
def test_per_request_lines_stay_out_of_the_log_but_at_debug(level: str, per_request: str) -> None:
    """A latency fault on every request would otherwise log a line per request."""
    loggers = server.log_config(level)["loggers"]
    assert loggers["mock_gateway"] == {"handlers": ["default"], "level": level.upper()}
    for name in server.PER_REQUEST_LOGGERS:
        assert loggers[name]["level"] == per_request
