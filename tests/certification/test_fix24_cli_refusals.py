"""Mistakes in ``--adapter`` and ``--adapter-option`` are refused before any case (exit 2),
naming what is wrong, instead of running every case into the same error."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.certification.cli import certify
from tests.certification.conftest import PROCEDURE


def _certify(tmp_path: Path, *args: str) -> tuple[int, str]:
    out = ["--out", str(tmp_path / "reports"), "--procedures", PROCEDURE, "--no-progress"]
    result = CliRunner().invoke(certify, [*args, *out])
    return result.exit_code, result.output


def test_a_misspelt_script_after_its_interpreter_is_refused_up_front(tmp_path: Path) -> None:
    code, output = _certify(tmp_path, "--adapter", "python ./myivn.py submit {dossier}")
    assert code == 2, output
    assert "'./myivn.py' does not exist" in output
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_a_repeated_adapter_option_is_refused_naming_the_key(tmp_path: Path) -> None:
    code, output = _certify(
        tmp_path,
        "--adapter", "python -m harness.certification.reference_cli submit {dossier}",
        "--adapter-option", "tick=python -m harness.certification.reference_cli tick",
        "--adapter-option", "tick=other tick",
    )  # fmt: skip
    assert code == 2, output
    assert "tick= is given twice" in output
