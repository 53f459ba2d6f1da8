"""``fuzz --out`` and ``--found`` are checked before any case: a folder that cannot be
written is refused at once (not after an hour of fuzzing), an empty value is a usage error
(it named the current folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main


@pytest.fixture(autouse=True)
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused folder must stop the command before the campaign starts."""

    def run_fuzz(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the campaign started")

    monkeypatch.setattr("harness.fuzz.runner.run_fuzz", run_fuzz)


def _fuzz(*args: str) -> Result:
    return CliRunner().invoke(main, ["fuzz", "--duration", "3600", *args])


def test_an_out_under_a_file_is_refused_before_the_run(tmp_path: Path, pki_dir: Path) -> None:
    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    result = _fuzz("--out", str(tmp_path / "afile" / "sub"), "--found", str(tmp_path / "found"))
    assert result.exit_code == 2, result.output
    assert f"error: cannot keep the report in {tmp_path / 'afile' / 'sub'}" in result.stderr
    assert "Hint: name with --out a folder you may write to" in result.stderr


def test_a_found_under_a_file_is_refused_before_the_run(tmp_path: Path, pki_dir: Path) -> None:
    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    result = _fuzz("--found", str(tmp_path / "afile" / "sub"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert f"error: cannot keep the minimal failures in {tmp_path / 'afile' / 'sub'}" in (
        result.stderr
    )


@pytest.mark.parametrize("option", ["--out", "--found"])
def test_an_empty_folder_is_a_usage_error(option: str) -> None:
    result = _fuzz(option, "")
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': an empty value" in result.stderr
