"""``fuzz --ivan CODE``: the dossiers name the I-VAN whose token sends them, and a URL run
refuses a token of another I-VAN before any case (it would report 403 ENV-010 as findings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.catalog import latest_version, load_catalog
from harness.cli import main
from harness.conformance import DossierChecker
from harness.fuzz import CheckerTarget, run_fuzz
from harness.signing import TestPKI, ensure_pki
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway


@pytest.fixture(scope="module")
def served(pki_dir: Path) -> Iterator[str]:
    """The mock gateway over HTTP, knowing IVAN01 and IVAN02 by their test tokens."""
    with InProcessGateway(pki=ensure_pki(pki_dir)) as gateway, LocalServer(gateway.gateway) as s:
        yield s.url


def _fuzz(tmp_path: Path, *args: str, budget: int = 8) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(
        main, ["fuzz", "--budget", str(budget), "--out", str(out), "--found", str(found), *args]
    )


def _meta(tmp_path: Path) -> dict[str, object]:
    [folder] = (tmp_path / "out").glob("fuzz-*")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    meta: dict[str, object] = data["run"]["meta"]
    return meta


def test_a_token_of_another_ivan_is_refused_before_any_case(tmp_path: Path, served: str) -> None:
    result = _fuzz(tmp_path, "--gateway", served, "--token", "test-token-IVAN02")
    assert result.exit_code == 2, result.output
    [message, hint] = result.stderr.strip().splitlines()
    assert message.startswith("error: the token given for IVAN01 is another I-VAN's"), message
    assert "(403 ENV-010)" in message and "Hint: pass --ivan" in hint
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()


def test_a_url_run_with_the_tokens_ivan_passes(tmp_path: Path, served: str) -> None:
    result = _fuzz(
        tmp_path,
        "--gateway",
        served,
        "--token",
        "test-token-IVAN02",
        "--ivan",
        "IVAN02",
        "--family",
        "valid",  # 8 cases reach the valid dossiers of each procedure, no mutant
    )
    assert result.exit_code == 0, result.output
    assert "fuzz: PASSED: 0 distinct failure(s) in 8 cases" in result.output
    assert _meta(tmp_path)["ivan"] == "IVAN02"


def test_the_wrong_ivan_for_a_token_is_refused_too(tmp_path: Path, served: str) -> None:
    result = _fuzz(
        tmp_path, "--gateway", served, "--token", "test-token-IVAN01", "--ivan", "IVAN02"
    )
    assert result.exit_code == 2, result.output
    assert "the token given for IVAN02 is another I-VAN's" in result.stderr


def test_an_inproc_run_submits_as_the_ivan_even_one_the_defaults_lack(tmp_path: Path) -> None:
    result = _fuzz(tmp_path, "--ivan", "IVAN07", "--family", "valid")
    assert result.exit_code == 0, result.output
    assert _meta(tmp_path)["ivan"] == "IVAN07"


def test_an_ivan_the_envelope_schema_refuses_is_a_usage_error(tmp_path: Path) -> None:
    result = _fuzz(tmp_path, "--ivan", "ivan-02")
    assert result.exit_code == 2, result.output
    assert "--ivan ivan-02: no envelope of catalog" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_found_dossiers_name_the_ivan_and_their_note_says_whose_token(
    tmp_path: Path, pki_dir: Path
) -> None:
    """A failure's minimal dossier (minimisation draws new dossiers) names --ivan, so its
    reproduce line, sent with that I-VAN's token, shows the failure and not ENV-010."""
    with (
        InProcessGateway(pki=ensure_pki(pki_dir), release="error-code-renumbered") as gateway,
        LocalServer(gateway.gateway) as server,
    ):
        args = ["--gateway", server.url, "--token", "test-token-IVAN02", "--ivan", "IVAN02"]
        result = _fuzz(tmp_path, *args, "--seed", "3", "--family", "date", budget=40)
    assert result.exit_code == 1, result.output
    assert "ENV-010" not in result.output
    dossiers = list((tmp_path / "found").glob("*.xml"))
    assert dossiers
    for dossier in dossiers:
        assert b"<MaIVAN>IVAN02</MaIVAN>" in dossier.read_bytes()
        note = dossier.with_suffix(".txt").read_text(encoding="utf-8")
        assert "BHXH_TOKEN=<a bearer token of IVAN02" in note and "test-token" not in note


def test_run_fuzz_builds_dossiers_for_the_targets_ivan(pki: TestPKI, tmp_path: Path) -> None:
    catalog = load_catalog(latest_version())
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()), ivan="IVAN02")
    report = run_fuzz(target, catalog, budget=8, pki=pki, found=tmp_path, ivan="IVAN02")
    assert report.ok, report.failures
    assert report.to_dict()["ivan"] == "IVAN02"
