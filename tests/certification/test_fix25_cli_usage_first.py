"""certify finds every usage mistake before its progress bar shows, says a URL without
its scheme in plain words, keeps the bar off stdout (on stderr, and only on a terminal),
and refuses half-given case ids and procedure lists instead of running something else.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.certification.cli import certify
from tests.certification.conftest import PROCEDURE

BAR = ("━", "starting", "0/")  # what the progress bar prints: its bar, first label, a count


def _certify(tmp_path: Path, *args: str, progress: bool = True) -> Result:
    out = ["--out", str(tmp_path / "reports"), "--client-timeout", "0.5"]
    out += [] if progress else ["--no-progress"]
    return CliRunner().invoke(certify, [*args, *out])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_url_without_its_scheme_is_told_in_plain_words_before_any_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # a terminal: the bar would show if started
    result = _certify(tmp_path, "--adapter", "reference", "--gateway", "127.0.0.1:18090")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "error: --gateway '127.0.0.1:18090' is not a URL\n"
        "Hint: did you mean http://127.0.0.1:18090? (leave --gateway out for the local gateway)\n"
    )


@pytest.mark.parametrize(
    ("adapter", "said"),
    [
        (f"http://127.0.0.1:{_closed_port()}", "/start unreachable"),
        ("no-such-vendor-cli-7f3a submit {dossier}", "'no-such-vendor-cli-7f3a' does not exist"),
    ],
    ids=["unreachable-hook", "missing-command"],
)
def test_an_adapter_that_cannot_start_is_refused_before_any_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adapter: str, said: str
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    result = _certify(tmp_path, "--adapter", adapter, "--case", "CERT-SCH-01")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and said in result.stderr
    assert not any(mark in result.stderr for mark in BAR), result.stderr


def test_the_bar_goes_to_a_terminals_stderr_and_stdout_holds_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    result = _certify(tmp_path, "--adapter", "reference", "--case", f"CERT-SCH-01@{PROCEDURE}")
    assert result.exit_code == 0, result.output
    assert f"baseline · {PROCEDURE}" in result.stderr and "1/1" in result.stderr
    assert result.stdout.startswith("verdict: ")
    assert "━" not in result.stdout and "baseline ·" not in result.stdout


def test_the_bar_is_not_printed_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    result = _certify(tmp_path, "--adapter", "reference", "--case", f"CERT-SCH-01@{PROCEDURE}")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("verdict: ") and "━" not in result.stdout


@pytest.mark.parametrize("typed", ["cert-sch-01", f"cert-sch-01@{PROCEDURE}"])
def test_a_case_id_in_the_wrong_case_is_the_id(tmp_path: Path, typed: str) -> None:
    """Ids are upper case: 'cert-sch-01@600' was refused, suggesting 'CERT-SCH-01' alone."""
    result = _certify(tmp_path, "--adapter", "reference", "--case", typed, progress=False)
    assert result.exit_code == 0, result.output
    assert "verdict: PASSED" in result.stdout and "PARTIAL RUN" in result.stdout


def test_a_mistyped_case_id_suggests_the_id(tmp_path: Path) -> None:
    result = _certify(tmp_path, "--adapter", "reference", "--case", "cert-sch-10", progress=False)
    assert result.exit_code == 2, result.output
    assert "unknown case CERT-SCH-10\nHint: did you mean 'CERT-SCH-01'? " in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--case", "CERT-SCH-01@", "'CERT-SCH-01@' names no procedure after '@'"),
        ("--case", f"@{PROCEDURE}", f"'@{PROCEDURE}' names no case"),
        ("--procedures", f"{PROCEDURE},,{PROCEDURE}", "has an empty procedure code"),
        ("--procedures", f"{PROCEDURE},", "has an empty procedure code"),
    ],
)
def test_a_half_given_case_or_procedure_list_is_refused(
    tmp_path: Path, option: str, value: str, said: str
) -> None:
    args = ["--adapter", "reference", option, value]
    args += ["--case", "CERT-SCH-01"] if option == "--procedures" else []
    result = _certify(tmp_path, *args, progress=False)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert not (tmp_path / "reports").exists()  # refused: nothing ran
