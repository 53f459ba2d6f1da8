"""The same gateway on a real PostgreSQL, started here in a temporary cluster.

Skipped, with the reason, where PostgreSQL's server binaries or the ``psycopg`` driver
are missing. As root (CI), the cluster runs as the ``postgres`` system user, because
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.dossiers.factory import Dossier
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway, GatewayRequest, GatewayResponse
from mock_gateway.testing import Answer


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="bhxh-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            shutil.chown(folder, user="postgres")
        except (LookupError, PermissionError) as exc:
            pytest.skip(f"running as root and no usable 'postgres' user: {exc}")
        prefix = [runuser, "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    log = folder / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)

    made = run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {made.stderr.strip()[:300]}")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = run(pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else started.stderr
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {detail.strip()[:300]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_gateway(postgres_url: str, pki: TestPKI) -> Iterator[Gateway]:
    gateway = Gateway(GatewayConfig(database_url=postgres_url, clock_speed=0.0), pki=pki)
    gateway.reset()
    try:
        yield gateway
    finally:
        gateway.close()


def _submit(gateway: Gateway, body: bytes, message_id: str) -> GatewayResponse:
    headers = {
        "Authorization": "Bearer test-token-IVAN01",
        "Content-Type": "application/xml",
        "X-Message-Id": message_id,
    }
    return gateway.handle(GatewayRequest("POST", "/api/v1/dossiers", headers, {}, body))


def test_intake_idempotency_and_lifecycle_on_postgres(
    pg_gateway: Gateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    first = _submit(pg_gateway, envelope, "pg-1")
    assert first.status == 202, first.body.decode()
    assert _submit(pg_gateway, envelope, "pg-1").body == first.body
    assert _submit(pg_gateway, valid().envelope, "pg-1").status == 409
    assert _submit(pg_gateway, valid().envelope, "pg-2").status == 202
    assert pg_gateway.advance_clock(15 * 60) == 2
    assert pg_gateway.advance_clock(60 * 60) == 2
    counts = pg_gateway.store.counts()
    assert (counts["dossiers"], counts["messages"], counts["idempotency"]) == (2, 6, 2)
    dossier = pg_gateway.store.dossier("IVAN01", Answer.parse(first).ma_gdich)
    assert dossier is not None and dossier.status == "accepted" and dossier.so_hso


def test_concurrent_duplicates_on_postgres(
    pg_gateway: Gateway, valid: Callable[..., Dossier]
) -> None:
    envelope = valid().envelope
    answers: list[int] = []
    barrier = threading.Barrier(5)

    def send() -> None:
        barrier.wait(timeout=10)
        answers.append(_submit(pg_gateway, envelope, "pg-race").status)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    assert answers == [202] * 5
    assert pg_gateway.store.counts()["dossiers"] == 1
