"""``fuzz`` options: --procedure limits the dossiers, --family valid runs the valid ones
alone, and each refusal is one ``error:`` line and a ``Hint:``, with nothing before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main


def _fuzz(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    return CliRunner().invoke(main, ["fuzz", "--out", str(out), "--found", str(found), *args])


def _cases(tmp_path: Path) -> list[dict[str, str]]:
    [folder] = (tmp_path / "out").glob("fuzz-*")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    cases: list[dict[str, str]] = data["cases"]
    return cases


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["--budget", "0"], "--budget 0: give at least 1 case", "--budget 200"),
        (["--gateway", "ftp://x"], "use an http:// or https:// URL", "'inproc'"),
        (["--family", "nosuch"], "--family nosuch: not a mutation family", "or valid (the"),
        (["--procedure", "999"], "--procedure 999: not in catalog", "known procedures: 600"),
        (["--procedure", "630A"], "--procedure 630A: not in catalog", "did you mean '630a'?"),
    ],
)
def test_a_refusal_is_one_line_and_a_hint(
    args: list[str], message: str, hint: str, tmp_path: Path, pki_dir: Path
) -> None:
    result = _fuzz(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # a blank line came first (the progress bar, off a terminal)
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith("error: ") and message in first
    assert second.startswith("Hint: ") and hint in second


def test_procedure_limits_the_dossiers(tmp_path: Path, pki_dir: Path) -> None:
    result = _fuzz(
        tmp_path,
        "--budget",
        "8",
        "--procedure",
        "604",
        "--family",
        "valid",
        "--lifecycle-steps",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert {c["procedure"] for c in _cases(tmp_path)} == {"604"}


def test_family_valid_runs_the_valid_dossiers_alone(tmp_path: Path, pki_dir: Path) -> None:
    result = _fuzz(tmp_path, "--budget", "8", "--family", "valid", "--lifecycle-steps", "0")
    assert result.exit_code == 0, result.output
    assert not result.stdout.startswith("\n")
    assert {c["case_id"].split("@")[0] for c in _cases(tmp_path)} == {"FUZZ-valid"}
