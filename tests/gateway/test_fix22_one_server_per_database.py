"""A second ``serve`` on the database of a running one is refused, before it changes
anything: it used to publish its own (empty) fault plan and clock speed over the first's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway import serve_lock, server
from mock_gateway.cli import serve
from mock_gateway.testing import ServerProcess, free_port

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.mark.usefixtures("no_server")
def test_a_claimed_sqlite_database_is_refused_naming_the_process(
    pki: TestPKI, tmp_path: Path
) -> None:
    del pki
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    with serve_lock.serving(url):
        result = CliRunner().invoke(serve, ["--database-url", url, "--clock-speed", "60"])
    assert result.exit_code == 2, result.output
    assert f"another gateway serves this database (pid {os.getpid()})" in result.output
    assert "Hint: stop it, or give this one another --database-url" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "gw.sqlite3").exists()  # refused before preflight created it


def test_the_claim_is_released_when_the_server_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    with serve_lock.serving(url):
        assert (tmp_path / "gw.sqlite3.serve-lock").read_text() == str(os.getpid())
    assert not (tmp_path / "gw.sqlite3.serve-lock").exists()
    with serve_lock.serving(url):
        pass


def test_in_memory_databases_are_never_claimed() -> None:
    with serve_lock.serving("sqlite://"), serve_lock.serving("sqlite://"):
        pass


def test_a_second_server_leaves_the_first_one_s_fault_plan(
    pki: TestPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end, with two workers (which share the database legitimately)."""
    del pki

    def reached() -> None:
        raise AssertionError("the second server would have started")

    monkeypatch.setattr(server, "remove_stale_metrics_folders", reached)
    database = tmp_path / "gw.sqlite3"
    with ServerProcess(database, workers=2) as first:
        plan = {"spec": "latency:seconds=0.01"}
        put = requests.put(f"{first.url}/admin/faults", json=plan, headers=ADMIN, timeout=10)
        assert put.status_code == 200, put.text
        port = str(free_port())
        url = f"sqlite:///{database}"
        result = CliRunner().invoke(serve, ["--database-url", url, "--port", port])
        assert result.exit_code == 2, result.output
        assert f"(pid {first.process.pid if first.process else ''})" in result.output
        got = requests.get(f"{first.url}/admin/faults", headers=ADMIN, timeout=10)
        assert "latency" in got.text, got.text


def test_a_claimed_postgres_database_is_refused_naming_the_process(postgres_url: str) -> None:
    refused = pytest.raises(ConfigError, match=rf"another gateway .* \(pid {os.getpid()}\)")
    with serve_lock.serving(postgres_url), refused, serve_lock.serving(postgres_url):
        pass
    with serve_lock.serving(postgres_url):  # released with its connection
        pass
