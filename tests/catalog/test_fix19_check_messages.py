"""What `catalog check` says of authoring mistakes: a fields.yaml name no XSD declares,
an unknown defect op, a rule refusing the valid dossier (which rule, where), and one
problem met in several rows said once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.catalog_copies import edited_home

FIELDS = Path("reference/fields.yaml")
DEFECTS = Path("dossiers/defects.yaml")
D02 = Path("catalog/2026.1/rules/D02-TS.sch")
D02_XSD = Path("catalog/2026.1/xsd/D02-TS-505.xsd")


def _check(home: Path, version: str = "2026.1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", "check", version]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def _line(home: Path, file: Path, needle: str) -> int:
    lines = (home / "fixtures" / file).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_a_fields_yaml_name_no_xsd_declares_is_refused(tmp_path: Path) -> None:
    home = edited_home(tmp_path, FIELDS, "  MaPhongBan: 0.5\n", "  MaPhongBann: 0.5\n")
    done = _check(home)
    assert done.returncode == 1, done.stdout + done.stderr
    line = _line(home, FIELDS, "MaPhongBann")
    assert f"fields.yaml:{line}: optional: 'MaPhongBann'" in done.stderr, done.stderr
    assert "did you mean 'MaPhongBan'?" in done.stderr


def test_an_unknown_defect_op_is_a_defects_yaml_error_listing_the_ops(tmp_path: Path) -> None:
    home = edited_home(tmp_path, DEFECTS, "op: set-date,", "op: copy,")
    done = _check(home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "defects.yaml cannot be read" in done.stderr, done.stderr
    assert "do not get the codes" not in done.stderr
    assert "unknown op 'copy'" in done.stderr and "did you mean 'copy-from'?" in done.stderr
    assert "known ops: " in done.stderr and "set-date" in done.stderr


def test_a_rule_refusing_the_valid_dossier_is_named_with_its_file_and_line(
    tmp_path: Path,
) -> None:
    cap = 'test="$wage &lt;= 20 * $base"'
    home = edited_home(tmp_path, D02, cap, cap.replace("20", "0"))
    done = _check(home)
    assert done.returncode == 1, done.stdout + done.stderr
    line = _line(home, D02, 'id="d02-wage-cap"')
    assert f"RULE-103 [rule=d02-wage-cap at {home / 'fixtures' / D02}:{line}]" in done.stderr
    problems = [n for n in done.stderr.splitlines() if "d02-wage-cap" in n]
    assert len(problems) == 1, done.stderr  # every row of the form said once
    assert "LaoDong[*]" in problems[0] and "rows" in problems[0]


def test_one_schema_failure_in_every_row_is_said_once(tmp_path: Path) -> None:
    length = '<xs:minLength value="1"/><xs:maxLength value="500"/>'
    home = edited_home(tmp_path, D02_XSD, length, length.replace("500", "2"))
    done = _check(home)
    assert done.returncode == 1, done.stdout + done.stderr
    problems = [n for n in done.stderr.splitlines() if "ChucVu" in n and "XSD-001" in n]
    assert len(problems) == 1, done.stderr
    assert "LaoDong[*]/ChucVu" in problems[0] and "rows" in problems[0]
