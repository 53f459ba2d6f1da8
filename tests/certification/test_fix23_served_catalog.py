"""``certify --gateway URL`` refuses a gateway that would judge its dossiers by another
catalog version, before anything is sent (as ``record`` does).

Against ``serve --catalog 2026.1``, ``certify --catalog 2024.1`` ended INCOMPLETE with cases
"blocked: no dossier was accepted"; the other way round a run PASSED under a report titled
with a catalog the gateway never judged a dossier by.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.certification import run_certification
from harness.certification.cli import certify
from harness.certification.gateway import CertGateway
from harness.certification.window import refuse_unserved
from harness.errors import UsageError
from harness.identities import ADMIN_TOKEN
from harness.signing import TestPKI
from mock_gateway.testing import ServerProcess
from tests.certification.conftest import FAST
from tests.fuzz.test_fix23_served_versions import data_home


@pytest.fixture(scope="module")
def serving_2026(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[str]:
    """``bhxh-harness serve --catalog 2026.1`` in its own process (frozen clock)."""
    folder = tmp_path_factory.mktemp("fix23-serve")
    with ServerProcess(folder / "gateway.sqlite3", extra=("--catalog", "2026.1")) as server:
        yield server.url


def _posts(url: str) -> list[str]:
    traffic = requests.get(
        f"{url}/admin/traffic?after=0",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ).text
    return [line for line in traffic.splitlines() if '"method": "POST"' in line]


def _certify(url: str, tmp_path: Path, catalog: str) -> tuple[int, str, str]:
    args = ["--adapter", "reference", "--gateway", url, "--catalog", catalog, "--no-progress"]
    args += ["--case", "CERT-ENV-01@604", "--client-timeout", "0.5", "--out", str(tmp_path)]
    result = CliRunner().invoke(certify, args)
    return result.exit_code, result.stdout, result.stderr


def test_a_catalog_the_gateway_does_not_serve_is_refused_before_anything_is_sent(
    serving_2026: str, tmp_path: Path
) -> None:
    code, out, err = _certify(serving_2026, tmp_path / "old", "2024.1")
    assert code == 2, out + err
    assert "error: the gateway does not serve catalog 2024.1: it serves 2026.1" in err
    assert "Hint: serve catalog 2024.1 there (bhxh-harness serve --catalog 2024.1 ...)" in err
    assert "pass --catalog with one of the versions it serves" in err
    assert not (tmp_path / "old").exists() or not list((tmp_path / "old").iterdir())
    assert _posts(serving_2026) == []  # not even the I-VAN credential's probe dossier


def test_the_catalog_it_serves_is_certified_as_before(serving_2026: str, tmp_path: Path) -> None:
    code, out, err = _certify(serving_2026, tmp_path, "2026.1")
    assert code == 0, out + err
    assert "verdict: PASSED (1 passed" in out and "note:" not in out


def test_a_newer_served_version_governing_a_procedure_s_period_is_refused(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """630a comes in force in 03/2026 in this copy of 2026.1, and 2026.2 (from 02/2026) is
    served too: a gateway judges a 630a dossier of 03/2026 by 2026.2, not 2026.1."""
    edit = {'in_force: {from: "01/2026"}': 'in_force: {from: "03/2026"}'}
    home = data_home(tmp_path / "home", {"2026.2": "02/2026"}, edit)
    server = ServerProcess(tmp_path / "gateway.sqlite3")
    with monkeypatch.context() as scoped:  # only the child reads the copy
        scoped.setenv("BHXH_HARNESS_HOME", str(home))
        server.start()
    catalog = load_catalog("2026.1", home / "fixtures" / "catalog")
    try:
        with pytest.raises(UsageError) as refused:
            run_certification(
                "reference", procedures=["630a"], gateway_url=server.url, catalog=catalog,
                cases=["CERT-ENV-01"], out=tmp_path / "out", settings=FAST,
            )  # fmt: skip
        gateway = CertGateway(server.url)
        assert refuse_unserved(gateway, catalog, ["604"]) is None  # its period: 01/2026
        gateway.close()
        posts = _posts(server.url)
    finally:
        server.stop()
    assert str(refused.value).startswith(
        "the gateway serves catalog 2026.1 but also 2026.2, in effect from 02/2026: it judges "
        "the run's dossiers of 03/2026 by catalog 2026.2, not 2026.1"
    )
    assert posts == [] and not (tmp_path / "out").exists()


def test_a_gateway_that_does_not_list_its_catalogs_is_certified_with_a_note(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CertGateway, "served_catalogs", lambda _self: None)
    args = ["--adapter", "reference", "--case", "CERT-ENV-01@604", "--procedures", "604"]
    args += ["--client-timeout", "0.5", "--no-progress", "--out", str(tmp_path)]
    result = CliRunner().invoke(certify, args)
    assert result.exit_code == 0, result.output
    note = "could not check that the gateway serves catalog 2026.1: its /healthz lists no catalogs"
    assert f"note: {note}" in result.stdout
    [results] = tmp_path.glob("certify-*/results.json")
    assert f'"catalog check": "{note}"' in results.read_text(encoding="utf-8")
