"""``catalog check``'s smoke run, exit codes and help, ``catalog list``'s accepted versions,
and ``dossier check`` / ``serve`` on a catalog whose rules fail when run, as BHXH IT meets
them on a copy of the data (``BHXH_HARNESS_HOME``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.catalog import load_catalog
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from mock_gateway.testing import free_port
from tests.catalog_copies import edited_home, line_of

D02 = Path("catalog/2026.1/rules/D02-TS.sch")
UNDECLARED = (  # compiles and passes the static rule check: fails only when it runs
    'test="$wage &gt;= $floor"',
    "test=\"$wage &gt;= fn:as-of(concat('no_', 'table'), 'amount', string(TuThang))\"",
)


def _cli(home: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BHXH_HARNESS_HOME"}
    if home is not None:
        env["BHXH_HARNESS_HOME"] = str(home)
    command = [sys.executable, "-m", "harness", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_a_rule_failing_when_run_fails_catalog_check_with_exit_1(
    tmp_path: Path, pki_dir: Path
) -> None:
    home = edited_home(tmp_path, D02, *UNDECLARED)
    done = _cli(home, "catalog", "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2024.1: ok" in done.stdout and "2026.1: error:" in done.stderr
    assert "procedures 600, 601: " in done.stderr and "table 'no_table'" in done.stderr
    assert "Traceback" not in done.stderr


def test_dossier_check_names_the_broken_rule_in_one_line(
    tmp_path: Path, pki_dir: Path, pki: TestPKI
) -> None:
    dossier = tmp_path / "d600.xml"
    dossier.write_bytes(DossierFactory(load_catalog("2026.1"), pki).build("600", 0).envelope)
    done = _cli(edited_home(tmp_path / "home", D02, *UNDECLARED), "dossier", "check", str(dossier))
    assert done.returncode == 2, done.stdout + done.stderr
    first, *rest = done.stderr.splitlines()
    assert first.startswith("error: ") and "table 'no_table'" in first and "D02-TS.sch:13:" in first
    assert [line for line in rest if not line.startswith("Hint: ")] == []


def test_a_choice_value_the_xsd_refuses_fails_catalog_check(tmp_path: Path, pki_dir: Path) -> None:
    """MaPhongBan is optional and drawn from its list: the dossiers alone would miss it."""
    old = "MaPhongBan: choice:[KT, NS, SX01, KD, HC]"
    home = edited_home(tmp_path, Path("reference/fields.yaml"), old, old.replace("NS", "ns-1"))
    done = _cli(home, "catalog", "check", "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    fields = home / "fixtures" / "reference" / "fields.yaml"
    line = line_of(fields, "MaPhongBan: choice:")
    assert (
        f"form D02-TS version 505: {fields}:{line}: MaPhongBan: choice value 'ns-1', which "
        "D02-TS-505.xsd refuses: it does not match the pattern [A-Z0-9]{1,10}"
    ) in done.stderr


def test_an_unknown_version_is_still_a_usage_error() -> None:
    done = _cli(None, "catalog", "check", "2025.9")
    assert done.returncode == 2 and "not found" in done.stderr and "2026.1" in done.stderr


def test_catalog_check_help_lists_its_exit_codes() -> None:
    done = _cli(None, "catalog", "check", "--help")
    text = " ".join(done.stdout.split())
    assert "Exit codes: 0 every version checked passed, 1 a version failed its check" in text
    assert "2 usage error" in text


def test_catalog_list_shows_every_accepted_version_the_current_one_starred(
    tmp_path: Path,
) -> None:
    current = '"595": {xsd: xsd/TK1-TS-595.xsd, rules: [rules/common.sch, rules/TK1-TS.sch]}'
    older = current.replace('"595"', '"590"')
    home = edited_home(
        tmp_path, Path("catalog/2026.1/catalog.yaml"), current, f"{older}\n      {current}"
    )
    done = _cli(home, "catalog", "list")
    assert done.returncode == 0, done.stderr
    assert "forms: D02-TS 505; TK1-TS 590, 595*; TK3-TS 595;" in done.stdout
    assert "* the form's current version" in done.stdout
    assert "forms: D02-TS 595; TK1-TS 595;" in done.stdout  # 2024.1: one version each


def test_serve_refuses_a_catalog_whose_rules_fail_before_its_banner(
    tmp_path: Path, pki_dir: Path
) -> None:
    home = edited_home(tmp_path, D02, *UNDECLARED)
    database = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    done = _cli(home, "serve", "--port", str(free_port()), "--database-url", database)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot serve catalog 2026.1: " in done.stderr and "'no_table'" in done.stderr
    assert "cannot serve catalog 2026.1: catalog 2026.1" not in done.stderr  # said once
    assert "mock BHXH gateway (TEST" not in done.stderr and "Traceback" not in done.stderr


def test_catalog_list_lists_every_version_and_fails_the_one_whose_start_clashes(
    tmp_path: Path,
) -> None:
    """Two versions taking effect the same month ended the listing with exit 2, a usage
    error, and listed nothing; ``catalog check`` already judged it the data's fault."""
    home = edited_home(
        tmp_path,
        Path("catalog/2026.1/catalog.yaml"),
        'effective_from: "01/2026"',
        'effective_from: "07/2024"',
    )
    start = (home / "fixtures/catalog/2024.1/catalog.yaml").read_text(encoding="utf-8")
    assert 'effective_from: "07/2024"' in start  # the same month as 2024.1
    done = _cli(home, "catalog", "list")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2024.1  from 07/2024" in done.stdout
    assert "2026.1  cannot load: " in done.stderr and "both take effect 07/2024" in done.stderr
    assert "Traceback" not in done.stderr
    listed = _cli(None, "catalog", "list", "--help")
    assert "1 a version could not be loaded" in " ".join(listed.stdout.split())
    diffed = _cli(home, "catalog", "diff", "2024.1", "2026.1")  # a gate must not pass it
    assert diffed.returncode == 2, diffed.stdout + diffed.stderr
    assert "both take effect 07/2024" in diffed.stderr and "does not pass" in diffed.stderr


def test_catalog_list_fails_a_version_whose_schema_does_not_compile(tmp_path: Path) -> None:
    """It listed such a version with exit 0, while `check` and `diff` refused it."""
    home = edited_home(
        tmp_path,
        Path("catalog/2026.1/xsd/D02-TS-505.xsd"),
        '<xs:element name="HoTen" type="Ten100"/>',
        '<xs:element name="HoTen" type="Ten5000"/>',
    )
    done = _cli(home, "catalog", "list")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2024.1  from 07/2024" in done.stdout and "2026.1  cannot load: " in done.stderr
    assert "Ten5000" in done.stderr and "Traceback" not in done.stderr


def test_catalog_diff_of_a_missing_version_says_it_does_not_exist() -> None:
    """It said "not found", then that the version "does not pass `catalog check`"."""
    done = _cli(None, "catalog", "diff", "2026.1", "2026.9")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "not found" in done.stderr and "2024.1" in done.stderr
    assert "does not pass" not in done.stderr and "Traceback" not in done.stderr
