"""``fuzz`` refuses a gateway that would judge its dossiers by another catalog version.

A gateway judges a dossier by the latest version it serves in effect for the dossier's
period: fuzzing catalog 2024.1 against one serving 2026.1 alone had every valid dossier
refused (ENV-009) and wrote a dozen "minimal failures" about the gateway. The check
(:func:`harness.served_versions.check_serves`) is the one ``record`` and ``certify`` use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from harness.catalog import load_catalog
from harness.cli import main
from harness.errors import UsageError
from harness.identities import ADMIN_TOKEN
from harness.paths import fixtures_dir
from harness.served_versions import check_serves, dossier_periods
from harness.signing import ensure_pki
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway, ServerProcess

TOKEN = "test-token-IVAN01"


def data_home(tmp_path: Path, added: dict[str, str], edits: dict[str, str] | None = None) -> Path:
    """A copy of ``fixtures/`` (a ``BHXH_HARNESS_HOME``) with each ``added`` version (a copy
    of 2026.1 taking effect at the given period) and ``edits`` (old -> new) to 2026.1."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    catalogs = tmp_path / "fixtures" / "catalog"
    for version, start in added.items():
        shutil.copytree(catalogs / "2026.1", catalogs / version)
        _edit(catalogs / version / "catalog.yaml", 'version: "2026.1"', f'version: "{version}"')
        _edit(catalogs / version / "catalog.yaml", '"01/2026"\n', f'"{start}"\n')
    for old, new in (edits or {}).items():
        _edit(catalogs / "2026.1" / "catalog.yaml", old, new)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- what "serves catalog X" means ------------------------------------------------------------


def test_the_periods_are_the_factory_s_and_fuzz_s_months() -> None:
    catalog = load_catalog("2026.1")
    assert dossier_periods(catalog) == ["01/2026"]
    assert dossier_periods(catalog, ["604"], months=3) == ["01/2026", "02/2026", "03/2026"]


def test_a_procedure_s_last_period_bounds_its_months(tmp_path: Path) -> None:
    home = data_home(
        tmp_path,
        {},
        {'in_force: {from: "01/2026"}': 'in_force: {from: "01/2026", until: "02/2026"}'},
    )
    catalog = load_catalog("2026.1", home / "fixtures" / "catalog")
    assert dossier_periods(catalog, ["630a"], months=12) == ["01/2026", "02/2026"]


def test_a_version_the_gateway_does_not_list_is_refused_with_what_it_lists() -> None:
    with pytest.raises(UsageError) as refused:
        check_serves(load_catalog("2024.1"), ["2026.1"])
    assert str(refused.value).startswith(
        "the gateway does not serve catalog 2024.1: it serves 2026.1"
    )
    assert "bhxh-harness serve --catalog 2024.1" in str(refused.value)
    assert "pass --catalog with one of the versions it serves" in str(refused.value)


def test_an_older_version_served_beside_a_newer_one_still_governs_its_periods() -> None:
    catalog = load_catalog("2024.1")
    assert check_serves(catalog, ["2024.1", "2026.1"], dossier_periods(catalog, months=12)) is None
    assert check_serves(load_catalog("2026.1"), ["2024.1", "2026.1"]) is None


def test_a_newer_version_in_effect_by_the_run_s_periods_is_refused(tmp_path: Path) -> None:
    root = data_home(tmp_path, {"2026.2": "07/2026"}) / "fixtures" / "catalog"
    catalog = load_catalog("2026.1", root)
    assert check_serves(catalog, ["2026.1", "2026.2"], ["01/2026"]) is None
    with pytest.raises(UsageError) as refused:
        check_serves(catalog, ["2026.1", "2026.2"], dossier_periods(catalog, months=12))
    assert str(refused.value).startswith(
        "the gateway serves catalog 2026.1 but also 2026.2, in effect from 07/2026: it judges "
        "the run's dossiers of 07/2026 to 12/2026 by catalog 2026.2, not 2026.1"
    )
    assert "pass --catalog 2026.2, or serve a gateway without 2026.2" in str(refused.value)


def test_what_cannot_be_told_is_a_note_not_a_refusal() -> None:
    catalog = load_catalog("2026.1")
    assert check_serves(catalog, None) == (
        "could not check that the gateway serves catalog 2026.1: its /healthz lists no catalogs"
    )
    note = check_serves(catalog, ["2026.1", "2099.9"])
    assert note is not None and note.startswith("the gateway also serves 2099.9, which this")
    assert check_serves(catalog, ["2001.1", "2026.1"]) is None  # listed before: older


# -- fuzz -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serving_2026(pki_dir: Path) -> Iterator[str]:
    """The mock gateway over HTTP serving catalog 2026.1 alone."""
    pki = ensure_pki(pki_dir)
    with (
        InProcessGateway(pki=pki, catalog_versions=("2026.1",)) as gateway,
        LocalServer(gateway.gateway) as server,
    ):
        yield server.url


def _fuzz(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(
        main, ["fuzz", "--budget", "7", "--out", str(out), "--found", str(found), *args]
    )


def test_fuzzing_a_catalog_the_gateway_does_not_serve_stops_before_any_case(
    tmp_path: Path, serving_2026: str
) -> None:
    result = _fuzz(tmp_path, "--gateway", serving_2026, "--token", TOKEN, "--catalog", "2024.1")
    assert result.exit_code == 2, result.output
    assert "error: the gateway does not serve catalog 2024.1: it serves 2026.1" in result.stderr
    assert "Hint: serve catalog 2024.1 there" in result.stderr
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()


def test_a_gateway_that_does_not_list_its_catalogs_is_fuzzed_with_a_note(
    tmp_path: Path, serving_2026: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.fuzz.http_target.listed_catalogs", lambda _health: None)
    result = _fuzz(
        tmp_path, "--gateway", serving_2026, "--token", TOKEN, "--catalog", "2026.1",
        "--family", "valid",  # this budget reaches the valid dossiers, no mutant family
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    note = "could not check that the gateway serves catalog 2026.1: its /healthz lists no catalogs"
    assert f"note: {note}" in result.stdout
    [results] = (tmp_path / "out").glob("fuzz-*/results.json")
    assert json.loads(results.read_text(encoding="utf-8"))["run"]["meta"]["notes"] == [note]


def test_a_served_newer_version_taking_over_the_fuzzed_months_is_refused(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real ``serve`` of 2026.1 and a 2026.2 from 07/2026: fuzz spreads 2026.1's valid
    dossiers over twelve months, and half of them the gateway judges by 2026.2."""
    home = data_home(tmp_path / "home", {"2026.2": "07/2026"})
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    server = ServerProcess(tmp_path / "gateway.sqlite3")
    with monkeypatch.context() as scoped:  # only the child reads the copy
        scoped.setenv("BHXH_HARNESS_HOME", str(home))
        server.start()
    try:
        served = requests.get(f"{server.url}/healthz", timeout=10).json()["catalogs"]
        assert served == ["2024.1", "2026.1", "2026.2"]
        args = ["--gateway", server.url, "--token", TOKEN, "--budget", "3", "--catalog", "2026.1"]
        out = ["--out", str(tmp_path / "out"), "--found", str(tmp_path / "found")]
        command = [sys.executable, "-m", "harness", "fuzz", *args, *out]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        traffic = requests.get(
            f"{server.url}/admin/traffic?after=0",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        ).text
    finally:
        server.stop()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "also 2026.2, in effect from 07/2026" in done.stderr
    assert "of 07/2026 to 12/2026 by catalog 2026.2, not 2026.1" in done.stderr
    assert '"POST"' not in traffic  # no dossier was sent
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()
