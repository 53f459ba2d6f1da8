"""``load --gateway URL`` refuses a gateway that does not serve ``--catalog`` before any
locust process starts, as ``record``, ``certify`` and ``fuzz`` do: every dossier of the run
was refused (``32 × submit: HTTP 400 ENV-009``) and the run reported FAILED levels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from harness.cli import main
from harness.identities import ADMIN_TOKEN
from mock_gateway.testing import ServerProcess


@pytest.fixture(scope="module")
def serving_2026(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fix23-load-serve")
    with ServerProcess(folder / "gateway.sqlite3", extra=("--catalog", "2026.1")) as server:
        yield server.url


def test_a_catalog_the_gateway_does_not_serve_is_refused_before_the_run(
    serving_2026: str, tmp_path: Path
) -> None:
    args = ["load", "--gateway", serving_2026, "--catalog", "2024.1", "--duration", "5"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "the gateway does not serve catalog 2024.1: it serves 2026.1" in result.output
    assert "--catalog" in result.output and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())  # no report folder: nothing ran
    traffic = requests.get(
        f"{serving_2026}/admin/traffic?after=0",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ).text
    assert '"method": "POST"' not in traffic
