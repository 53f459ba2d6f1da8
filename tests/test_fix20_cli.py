"""``serve`` refuses as the other commands do (``error:``, a hint, exit 2), makes a missing
--reports folder when it starts; ``dossier check`` names no catalog for a file it could not
read; every command's --help says its exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from mock_gateway import server, workers


class _Started(Exception):
    """Every check passed: the server would start serving here."""


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass the port check, and stop just before serving."""

    def started() -> None:
        raise _Started

    monkeypatch.setattr(workers, "check_port", lambda host, port: None)
    monkeypatch.setattr(server, "remove_stale_metrics_folders", started)


def _serve(tmp_path: Path, *args: str) -> Result:
    database = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    return CliRunner().invoke(main, ["serve", "--database-url", database, *args])


def _refusal(result: Result) -> tuple[str, str]:
    assert result.exit_code == 2, (result.output, result.exception)
    first, second = result.stderr.splitlines()[:2]
    return first, second


@pytest.mark.usefixtures("no_server")
def test_an_address_this_machine_lacks_is_refused_with_a_hint(tmp_path: Path) -> None:
    first, second = _refusal(_serve(tmp_path, "--host", "192.0.2.1"))  # TEST-NET-1
    assert first == "error: --host 192.0.2.1 is not an address of this machine"
    assert second.startswith("Hint: give 127.0.0.1")


@pytest.mark.usefixtures("no_server")
def test_serve_says_error_in_lower_case_like_the_other_commands(tmp_path: Path) -> None:
    first, second = _refusal(_serve(tmp_path, "--catalog", "nosuch"))
    assert first.startswith("error: ") and "nosuch" in first
    assert second.startswith("Hint: known versions")


@pytest.mark.usefixtures("no_server")
def test_a_missing_reports_folder_is_made_when_the_server_starts(
    tmp_path: Path, pki_dir: Path
) -> None:
    del pki_dir
    reports = tmp_path / "runs" / "ci"
    refused = _serve(tmp_path, "--reports", str(reports), "--catalog", "nosuch")
    assert refused.exit_code == 2 and not reports.exists()  # a refused start makes none
    result = _serve(tmp_path, "--reports", str(reports))
    assert isinstance(result.exception, _Started), result.output
    assert reports.is_dir()
    assert f"created {reports} for --reports" in result.stderr


def test_reports_under_a_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    first, second = _refusal(_serve(tmp_path, "--reports", str(tmp_path / "afile" / "runs")))
    assert first.startswith("error: cannot keep the suite runs' reports in")
    assert "is a file, not a folder" in first and second.startswith("Hint: name with --reports")


def test_a_file_that_is_not_xml_names_no_catalog(tmp_path: Path, pki_dir: Path) -> None:
    del pki_dir
    garbage = tmp_path / "g.xml"
    garbage.write_text("hello\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dossier", "check", str(garbage)])
    assert result.exit_code == 1, result.output
    first = result.stdout.splitlines()[0]
    assert first == f"{garbage}: rejected (could not be read as a dossier; no catalog applies)"
    assert "XML-001" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["dossier", "build"],
        ["dossier", "check"],
        ["dossier", "corpus"],
        ["dossier", "defects"],
        ["pki", "init"],
    ],
)
def test_help_says_the_exit_codes(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Exit codes: 0 " in result.stdout and " 2 usage error" in result.stdout
