"""``--gateway URL``: the suite certifies against a gateway running in another process.

With fault injection served there (``mock_gateway.faulty_app:app_factory``) every case
runs; against a plain gateway the cases that need faults are skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from harness.catalog import latest_version
from harness.certification import run_certification
from harness.signing import TestPKI
from mock_gateway.config import GatewayConfig
from tests.certification.conftest import FAST, PROCEDURE


@contextmanager
def serve(factory: str, folder: Path, pki: TestPKI, **config_options: Any) -> Iterator[str]:
    """``factory`` served by uvicorn on a free port with a frozen clock (``config_options``
    override the gateway's settings, e.g. its tokens); yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = GatewayConfig(
        database_url=f"sqlite:///{folder / 'gateway.sqlite3'}",
        clock_speed=0.0,
        catalog_versions=(latest_version(),),
        pki_directory=str(pki.directory),
        **config_options,
    )
    env = dict(os.environ)
    config.to_env(env)
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_faulty_gateway_elsewhere(tmp_path: Path, pki: TestPKI) -> None:
    with serve("mock_gateway.faulty_app:app_factory", tmp_path, pki) as url:
        bundle = run_certification(
            "faulty:new-message-id-on-retry",
            procedures=[PROCEDURE],
            gateway_url=url,
            cases=["CERT-ENV-01", "CERT-IDM-02"],
            out=tmp_path,
            settings=FAST,
        )
    outcomes = {c.case_id.split("@")[0]: c.outcome.value for c in bundle.cases}
    assert outcomes == {"CERT-ENV-01": "passed", "CERT-IDM-02": "failed"}
    assert bundle.info.meta["gateway"] == url
    assert all(f"--gateway {url}" in c.reproduce for c in bundle.cases)


def test_a_plain_gateway_skips_what_needs_faults(tmp_path: Path, pki: TestPKI) -> None:
    with serve("mock_gateway.app:app_factory", tmp_path, pki) as url:
        bundle = run_certification(
            "reference",
            procedures=[PROCEDURE],
            gateway_url=url,
            cases=["CERT-ENV-01", "CERT-IDM-01"],
            out=tmp_path,
            settings=FAST,
        )
    results = {c.case_id.split("@")[0]: c for c in bundle.cases}
    assert results["CERT-ENV-01"].outcome.value == "passed"
    skipped = results["CERT-IDM-01"]
    assert skipped.outcome.value == "skipped" and "/admin/faults" in skipped.message
