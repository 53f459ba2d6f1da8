"""``dossier build`` and its neighbours given wrong or odd input by a new user: each is
refused with what to do, and "gateway must answer: accepted" is never a false promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.cli import main
from harness.cli_types import CODE, NAME
from harness.dossiers.choices import check_period_carried
from harness.errors import UsageError
from harness.signing import TestPKI
from harness.suggestions import did_you_mean
from tests.catalog_copies import edited_copy


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_period_the_envelope_schema_cannot_carry_is_refused(tmp_path: Path) -> None:
    """01/2100 was built and promised "accepted"; `dossier check` then said ENV-001."""
    out = tmp_path / "p.xml"
    code, output = _run("dossier", "build", "600", "--period", "01/2100", "-o", str(out))
    assert code == 2 and not out.exists(), output
    assert "--period 01/2100: catalog 2026.1 cannot carry it" in output
    assert "ENV-001" in output and "KyKeKhai" in output and "must answer" not in output
    code, output = _run("dossier", "build", "600", "--period", "12/2099", "-o", str(out))
    assert code == 0 and "gateway must answer: accepted" in output


def test_the_period_check_follows_the_catalogs_schema(tmp_path: Path, pki: TestPKI) -> None:
    """The check reads the schema (catalog data), not a pattern written in Python."""
    from harness.dossiers.factory import DossierFactory

    pattern = '"xs:string"><xs:pattern value="(0[1-9]|1[0-2])/(19|20)[0-9]{2}"/>'  # Thang
    narrower = '"xs:string"><xs:pattern value="(0[1-9]|1[0-2])/20[0-4][0-9]"/>'
    root = edited_copy(tmp_path, "2026.1", {"xsd/common.xsd": [(pattern, narrower)]})
    factory = DossierFactory(load_catalog("2026.1", root=root), pki)
    check_period_carried(factory, "600", "03/2049", {})
    with pytest.raises(UsageError, match=r"--period 03/2050: catalog 2026\.1 cannot carry it"):
        check_period_carried(factory, "600", "03/2050", {})


def test_a_period_no_catalog_puts_the_procedure_in_force_in_gives_a_hint_that_works(
    tmp_path: Path,
) -> None:
    """01/1900 hinted `pass --catalog 2024.1`, which failed: not in force in 01/1900."""
    out = tmp_path / "p.xml"
    code, output = _run("dossier", "build", "600", "--period", "01/1900", "-o", str(out))
    assert code == 2 and not out.exists(), output
    assert "procedure 600 is not in force in 01/1900 under catalog 2024.1" in output
    assert "--catalog 2024.1" not in output and "leave out --period" in output
    code, output = _run("dossier", "build", "600", "-o", str(out))  # the hint, followed
    assert code == 0, output


def test_a_defect_that_declares_its_own_period_refuses_another(tmp_path: Path) -> None:
    """--period 03/2026 was silently dropped: the dossier declared 02/2017."""
    out = tmp_path / "p.xml"
    args = ("dossier", "build", "600", "--defect", "procedure-not-in-force", "-o", str(out))
    code, output = _run(*args, "--period", "03/2026")
    assert code == 2 and not out.exists(), output
    assert "--defect procedure-not-in-force declares its own period" in output
    assert "leave out --period" in output
    code, output = _run(*args)
    assert code == 0 and "gateway must answer: ENV-003" in output


def test_a_procedure_code_in_the_wrong_case_is_suggested() -> None:
    code, output = _run("dossier", "build", "630A")
    assert code == 2 and "did you mean '630a'?" in output
    assert did_you_mean("d02-ts", ["D01-TS", "D02-TS"]) == "did you mean 'D02-TS'? "
    assert did_you_mean("zzz", ["D02-TS"]) == ""


@pytest.mark.parametrize(
    "args",
    [("dossier", "build", "600", "-o", ""), ("pki", "init", "--dir", "")],
)
def test_an_empty_output_is_refused_like_every_other_empty_value(args: tuple[str, ...]) -> None:
    code, output = _run(*args)
    assert code == 2 and "an empty value: give one" in output, output


def test_a_dash_output_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["dossier", "build", "600", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"<?xml") and not (tmp_path / "-").exists()


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_a_file_that_fails_once_open_is_named() -> None:
    """As root, /proc/version opens for writing and fails at write: no file was named."""
    code, output = _run("dossier", "build", "600", "-o", "/proc/version")
    assert code == 2 and "/proc/version" in output, output


def test_defects_as_json_refuse_an_unknown_catalog() -> None:
    code, output = _run("dossier", "defects", "--json", "--catalog", "2099")
    assert code == 2 and "'2099' not found" in output and "2026.1" in output


def test_a_code_under_an_ascii_locale_is_read_as_the_utf8_typed() -> None:
    escaped = "ĐẶNG".encode().decode("ascii", "surrogateescape")  # argv under LC_ALL=C
    read = CODE.convert(escaped, None, None)
    assert read.encode("utf-8", "backslashreplace") == "ĐẶNG".encode()  # a printable failure
    assert CODE.convert(" IVAN02 ", None, None) == "IVAN02"
    with pytest.raises(click.BadParameter):
        CODE.convert("  ", None, None)
    assert NAME.convert(escaped, None, None) == escaped  # a path: the file's own bytes


@pytest.mark.parametrize(
    "command",
    [
        ("dossier", "build", "600"),
        ("certify", "--adapter", "reference"),
        ("record", "--name", "x"),
        ("fuzz", "--budget", "1"),
    ],
    ids=["dossier-build", "certify", "record", "fuzz"],
)
def test_an_ivan_code_under_an_ascii_locale_gets_the_real_error(
    pki_dir: Path, command: tuple[str, ...]
) -> None:
    """It said `cannot write 'ĐẶNG' under this locale ... use ASCII paths`: not a path."""
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "LANG": "C"}
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run(
        [sys.executable, "-m", "harness", *command, "--ivan", "ĐẶNG"],
        capture_output=True,
        env=env,
        timeout=120,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert "no envelope of catalog" in err and "under this locale" not in err
