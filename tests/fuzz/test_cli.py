"""``bhxh-harness fuzz --gateway inproc``: the real mock gateway passes a CI-sized budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.signing import ensure_pki
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway


def test_fuzz_inproc_gateway_passes_and_writes_a_report(tmp_path: Path, pki_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["fuzz", "--budget", "60", "--out", str(tmp_path), "--found", str(tmp_path / "found")],
    )
    assert result.exit_code == 0, result.output
    [folder] = list(tmp_path.glob("fuzz-*"))
    assert "fuzz: PASSED: 0 distinct failure(s) in 60 cases" in result.output
    assert result.output.rstrip().endswith(f"report: {folder / 'index.html'}")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "passed" and data["run"]["meta"]["cases"] == 60
    families = {c["case_id"].split("@")[0] for c in data["cases"]}
    assert families >= {"FUZZ-valid", "FUZZ-signature"}
    procedures = {c["procedure"] for c in data["cases"]}
    assert len(procedures) > 1 and "" not in procedures  # the matrix shows what was reached


def test_fuzz_url_without_token_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["fuzz", "--gateway", "http://127.0.0.1:9", "--budget", "1"])
    assert result.exit_code == 2 and "--token" in result.stderr


# -- a URL is checked before any case, and a failure's line replays it there -----------------


@pytest.fixture(scope="module")
def served(pki_dir: Path) -> Iterator[str]:
    """The mock gateway over HTTP, as a URL run reaches it."""
    with InProcessGateway(pki=ensure_pki(pki_dir)) as gateway, LocalServer(gateway.gateway) as s:
        yield s.url


def _fuzz(tmp_path: Path, *args: str, budget: int = 3) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(
        main, ["fuzz", "--budget", str(budget), "--out", str(out), "--found", str(found), *args]
    )


def test_a_refused_token_stops_before_any_case(tmp_path: Path, served: str) -> None:
    result = _fuzz(tmp_path, "--gateway", served, "--token", "wrong")
    assert result.exit_code == 2, result.output
    assert f"the gateway at {served} refuses the I-VAN token (401 AUTH-002)" in result.stderr
    assert "Hint: pass --token" in result.stderr
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()


def test_a_url_with_a_path_is_refused(tmp_path: Path, served: str) -> None:
    result = _fuzz(tmp_path, "--gateway", f"{served}/api/v1", "--token", "test-token-IVAN01")
    assert result.exit_code == 2, result.output
    assert f"has a path: use the gateway's base URL, e.g. {served}" in result.stderr
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()


def test_a_web_server_that_is_not_the_gateway_is_refused(tmp_path: Path, web_server: str) -> None:
    url = f"http://{web_server}"
    result = _fuzz(tmp_path, "--gateway", url, "--token", "test-token-IVAN01")
    assert result.exit_code == 2, result.output
    assert (
        f"{url} does not answer as a BHXH gateway: GET /api/v1/catalog answered 404 text/html"
    ) in result.stderr
    assert not (tmp_path / "found").exists() and not (tmp_path / "out").exists()


def test_the_help_shows_the_default_budget() -> None:
    shown = CliRunner().invoke(main, ["fuzz", "--help"], terminal_width=200).output
    assert "[default: 200;" in shown  # what a run without --budget or --duration does


def test_found_that_is_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("", encoding="utf-8")
    args = ["fuzz", "--budget", "3", "--found", str(afile), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "is a file" in result.stderr, result.output
    assert not (tmp_path / "out").exists()  # no run, no report


def test_inproc_in_capitals_suggests_inproc_like_regress(tmp_path: Path) -> None:
    result = _fuzz(tmp_path, "--gateway", "INPROC")
    assert result.exit_code == 2, result.output
    assert "did you mean 'inproc'?" in result.stderr and "--token" not in result.stderr


def test_a_url_runs_reproduce_line_replays_the_dossier_there_from_any_folder(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = ensure_pki(pki_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with (
        InProcessGateway(pki=pki, release="error-code-renumbered") as gateway,
        LocalServer(gateway.gateway) as server,
    ):
        args = ["--gateway", server.url, "--token", "test-token-IVAN01", "--seed", "3"]
        result = _fuzz(tmp_path, *args, "--family", "date", budget=40)
    assert result.exit_code == 1, result.output
    [line] = [x.strip() for x in result.stdout.splitlines() if x.strip().startswith("reproduce:")]
    [dossier] = (tmp_path / "found").glob("*.xml")
    assert f"--data-binary @{dossier.resolve()} {server.url}/api/v1/dossiers" in line
    assert line.startswith("reproduce: ") and " curl " in line
    assert '"Authorization: Bearer $BHXH_TOKEN"' in line
    assert "test-token-IVAN01" not in dossier.with_suffix(".txt").read_text(encoding="utf-8")
    note = dossier.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
    assert note[0].startswith("# export BHXH_TOKEN=")  # then the command, then the check
    [check] = [x for x in note if x.startswith("expected verdict: ")]
    assert check.endswith(f" {dossier.resolve()}")
