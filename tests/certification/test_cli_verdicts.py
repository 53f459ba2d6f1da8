"""What ``certify`` says and exits with: a skipped case is not a pass, and a user's
mistake is one line (exit 2) before any case runs, never a traceback or a per-case error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.certification.cli import certify
from tests.certification.conftest import PROCEDURE

CLI = f"{sys.executable} -m harness.certification.reference_cli"


def test_a_run_with_a_skipped_case_is_incomplete_not_passed(tmp_path: Path) -> None:
    args = [
        "--adapter", f"{CLI} submit {{dossier}} --now {{now}}",
        "--adapter-option", f"tick={CLI} tick --now {{now}}",
        "--procedures", PROCEDURE, "--case", "CERT-SCH-01", "--case", "CERT-REC-01",
        "--client-timeout", "0.5", "--out", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    result = CliRunner().invoke(certify, args)
    assert result.exit_code == 3, result.output
    assert "verdict: INCOMPLETE (1 passed, 0 failed, 0 errors, 1 skipped)" in result.stdout
    assert f"SKIPPED CERT-REC-01@{PROCEDURE}: not supported by the adapter: no recover" in (
        result.stdout
    )
    assert '--adapter-option recover="vendor-cli recover {ma_gdich}"' in result.stdout
    [bundle] = tmp_path.iterdir()
    assert json.loads((bundle / "results.json").read_text("utf-8"))["verdict"] == "incomplete"


def test_a_case_id_as_printed_runs_that_case_for_that_procedure(tmp_path: Path) -> None:
    args = ["--adapter", "reference", "--case", f"CERT-ENV-02@{PROCEDURE}", "--out", str(tmp_path)]
    result = CliRunner().invoke(certify, [*args, "--client-timeout", "0.5", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "verdict: PASSED (1 passed" in result.stdout


def test_options_that_cannot_work_are_refused_before_any_case(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--adapter", "reference", "--out", str(tmp_path), "--no-progress"]
    empty = runner.invoke(certify, [*base, "--procedures", ""])
    assert empty.exit_code == 2 and "names no procedure" in empty.output
    for value in ("-1", "0"):
        negative = runner.invoke(certify, [*base, "--client-timeout", value])
        assert negative.exit_code == 2 and "--client-timeout" in negative.output
    ignored = runner.invoke(certify, [*base, "--adapter-option", "timeout=5"])
    assert ignored.exit_code == 2 and "takes no --adapter-option" in ignored.stderr
    assert not list(tmp_path.iterdir())


def test_a_manual_run_stops_when_the_operators_input_ends(tmp_path: Path) -> None:
    args = ["--adapter", "manual", "--procedures", PROCEDURE, "--out", str(tmp_path)]
    result = CliRunner().invoke(certify, args, input="")
    assert result.exit_code == 2, result.output
    assert "the operator's input ended" in result.stderr
    assert result.stdout.count("SUBMIT job") == 1  # not one prompt per case
