"""defects.yaml entries are checked when read: a key the op does not take, or one it needs
and lacks, is refused with the line (never a KeyError traceback when the defect is built);
and ``catalog check`` refuses a defect that applies to no procedure of any version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.dossiers import defects
from harness.errors import CatalogError
from harness.paths import fixtures_dir

MISSPELT = 'destination-not-listed: {expect: [RULE-110], op: set, element: [DanToc], value: "ZZ"}\n'


def _home(tmp_path: Path, extra: str) -> Path:
    """A copy of the project's fixtures with ``extra`` appended to defects.yaml."""
    shutil.copytree(fixtures_dir(), tmp_path / "fixtures")
    path = tmp_path / "fixtures" / "dossiers" / "defects.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return tmp_path


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _last_line(home: Path) -> int:
    return len((home / "fixtures" / "dossiers" / "defects.yaml").read_text("utf-8").splitlines())


def _refused(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        defects.load_defects()
    return str(info.value)


def test_a_misspelt_key_is_refused_with_its_line_and_the_right_name(defects_file: Path) -> None:
    said = _refused(defects_file, "ok: {expect: [SIG-001], op: unsign-form}\n" + MISSPELT)
    assert f"{defects_file}:2:" in said and "unknown key 'element'" in said
    assert "did you mean 'elements'?" in said and "elements: [<element name>" in said


def test_a_key_another_op_takes_is_refused_too(defects_file: Path) -> None:
    said = _refused(
        defects_file, 'x: {expect: [RULE-112], op: set, elements: [HoTen], value: "", tag: A}\n'
    )
    assert "unknown key 'tag': op set would ignore it" in said


@pytest.mark.parametrize(
    ("entry", "missing"),
    [
        ("{expect: [RULE-112], op: set, elements: [HoTen]}", "value missing"),
        ("{expect: [XSD-001], op: insert-after, elements: [HoTen]}", "tag missing"),
        ("{expect: [SIG-005], op: form-signer}", "credential missing"),
        ("{expect: [ENV-006], op: envelope-delta, path: NoiDung/X}", "delta missing"),
        ("{expect: [XSD-001], op: remove}", "elements missing"),
    ],
)
def test_a_missing_key_is_named_per_op(defects_file: Path, entry: str, missing: str) -> None:
    said = _refused(defects_file, f"x: {entry}\n")
    assert f"{defects_file}:1:" in said and missing in said and "write it as {expect:" in said


@pytest.mark.parametrize(
    ("entry", "wrong"),
    [
        ("{expect: [RULE-112], op: set, elements: HoTen, value: x}", "elements must be"),
        ("{expect: [RULE-112], op: set, elements: [HoTen], value: ON}", "value must be"),
        ("{expect: [ENV-006], op: envelope-delta, path: NoiDung/X, delta: one}", "delta must"),
        ("{expect: [], op: unsign-form}", "expect must list"),
    ],
)
def test_an_argument_of_the_wrong_kind_is_refused(
    defects_file: Path, entry: str, wrong: str
) -> None:
    assert wrong in _refused(defects_file, f"x: {entry}\n")


def test_dossier_build_says_file_and_line_not_a_traceback(tmp_path: Path) -> None:
    home = _home(tmp_path, MISSPELT)
    done = _run(home, "dossier", "build", "610", "--defect", "destination-not-listed")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr
    assert f"defects.yaml:{_last_line(home)}:" in done.stderr
    assert "did you mean 'elements'?" in done.stderr


def test_catalog_check_names_the_file_once_not_every_procedure(tmp_path: Path) -> None:
    home = _home(tmp_path, MISSPELT)
    done = _run(home, "catalog", "check", "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"defects.yaml:{_last_line(home)}:" in done.stderr
    assert "KeyError" not in done.stderr and "procedures 600" not in done.stderr


def test_catalog_check_refuses_a_defect_no_version_can_build(tmp_path: Path) -> None:
    home = _home(tmp_path, MISSPELT.replace("element: [DanToc]", "elements: [DanTocc]"))
    done = _run(home, "catalog", "check")
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stderr
    assert f"defects.yaml:{_last_line(home)}: defect destination-not-listed applies to no " in said
    assert "no XSD declares DanTocc" in said and "did you mean 'DanToc'?" in said
    assert "every defect built and checked" not in done.stdout


def test_a_defect_another_version_on_disk_can_build_is_kept(tmp_path: Path) -> None:
    """MaPhongBan is in 2026.1's D02-TS 505 only: checking 2024.1 alone, the defect applies
    to none of its procedures, but to a version on disk, so it is not dead data."""
    entry = "department-x: {expect: [XSD-001], op: insert-after, elements: [MaPhongBan], tag: X}\n"
    done = _run(_home(tmp_path, entry), "catalog", "check", "2024.1")
    assert done.returncode == 0, done.stdout + done.stderr


def test_result_and_refusal_codes_in_one_defect_are_refused_with_the_line(
    defects_file: Path,
) -> None:
    said = _refused(
        defects_file,
        "ok: {expect: [SIG-001], op: unsign-form}\n"
        "both: {expect: [RES-001, RULE-104], op: cccd-holder, elements: [CMND], "
        'value: "001090000001"}\n',
    )
    assert f"{defects_file}:2:" in said
    assert "never gets the 03/TB-TS" in said and "split it into two defects" in said


def test_a_cccd_holder_value_that_is_not_a_cccd_is_refused_with_the_line(
    defects_file: Path,
) -> None:
    said = _refused(
        defects_file, "short: {expect: [RES-001], op: cccd-holder, elements: [CMND], value: 1234}\n"
    )
    assert f"{defects_file}:1:" in said and "12 digits" in said and "quote it" in said
