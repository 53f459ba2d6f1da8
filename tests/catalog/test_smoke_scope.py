"""What the smoke run refuses, and where: ``serve`` only the gateway's own faults (the
dossier factory's data only warns), ``catalog check`` also every named defect; and how
its messages read (one line per problem, a short hint, the version named once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness.catalog import load_catalog
from harness.dossiers.smoke import smoke_run
from harness.paths import project_root
from harness.signing import TestPKI
from mock_gateway.testing import free_port
from tests.catalog_copies import edited_copy, edited_home

FIELDS = Path("reference/fields.yaml")
DEFECTS = Path("dossiers/defects.yaml")
BANNER = "mock BHXH gateway (TEST"
NO_TABLE = "fn:as-of(concat('no_', 'table'), 'amount', string(TuThang)) &gt; 0"
"""Fails only when run (the table is named at run time), and only where the wage is low."""


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "BHXH_HARNESS_HOME": str(home)}


def _check(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "catalog", "check", *args]
    return subprocess.run(command, capture_output=True, text=True, env=_env(home), timeout=120)


def _serve_start(home: Path, *args: str) -> tuple[int | None, str]:
    """``serve``'s exit code (None: it started and was stopped) and what it said first."""
    database = f"sqlite:///{home / 'gw.sqlite3'}"
    command = [sys.executable, "-m", "harness", "serve", "--port", str(free_port())]
    command += ["--database-url", database, *args]
    said: list[str] = []
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=_env(home)
    ) as server:
        assert server.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            said.append(server.stderr.readline())
            if not said[-1] or BANNER in said[-1]:
                break
        started = server.poll() is None
        if started:
            server.terminate()
        server.communicate(timeout=30)
    return (None if started else server.returncode), "".join(said)


def test_serve_warns_and_serves_over_the_factorys_fields_data(
    tmp_path: Path, pki_dir: Path
) -> None:
    """A real I-VAN's dossiers do not come from fields.yaml: it must not stop the gateway."""
    home = edited_home(tmp_path, FIELDS, "  MaPhongBan: 0.5", "  MaPhongBan: 20")
    code, said = _serve_start(home, "--catalog", "2024.1")
    assert code is None, said
    warning, banner = said.splitlines()[:2]
    assert warning.startswith("warning: catalog 2024.1: the dossier factory cannot build")
    assert "fields.yaml:" in warning and "serving anyway" in warning
    assert "are refused" not in said and BANNER in banner


def test_catalog_check_runs_a_rule_branch_only_a_defect_reaches(
    tmp_path: Path, pki: TestPKI
) -> None:
    edit = ('test="$wage &gt;= $floor"', f'test="$wage &gt;= $floor or {NO_TABLE}"')
    catalog = load_catalog(
        "2026.1", root=edited_copy(tmp_path, "2026.1", {"rules/D02-TS.sch": [edit]})
    )
    assert smoke_run(catalog, pki, values=False) == []  # the valid dossiers never reach it
    refusals = smoke_run(catalog, pki, values=False, defects=True)
    assert {(r.procedure, r.where) for r in refusals} == {
        ("600", "defect wage-below-minimum"),
        ("601", "defect wage-below-minimum"),
    }
    assert all(r.gateway and "'no_table'" in r.problem for r in refusals)


def test_catalog_check_refuses_a_defect_expecting_a_code_it_does_not_get(
    tmp_path: Path, pki_dir: Path
) -> None:
    old = "wage-below-minimum:       {expect: [RULE-102]"
    home = edited_home(tmp_path, DEFECTS, old, old.replace("RULE-102", "RULE-103"))
    done = _check(home, "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    line = "defect wage-below-minimum (procedures 600, 601): expects RULE-103, got RULE-102"
    assert line in done.stderr and "Traceback" not in done.stderr


def test_versions_taking_effect_the_same_month_fail_the_later_one_with_exit_1(
    tmp_path: Path, pki_dir: Path
) -> None:
    shutil.copytree(project_root() / "fixtures", tmp_path / "fixtures")
    catalogs = tmp_path / "fixtures" / "catalog"
    shutil.copytree(catalogs / "2026.1", catalogs / "2026.2")  # the same effective_from
    yaml = catalogs / "2026.2" / "catalog.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace('"2026.1"', '"2026.2"'), "utf-8")
    done = _check(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2026.2: error: " in done.stderr and "both take effect" in done.stderr
    assert "2024.1: ok" in done.stdout and "\nerror:" not in f"\n{done.stderr}"


def test_a_value_refused_in_every_row_is_one_line_with_its_count(
    tmp_path: Path, pki_dir: Path
) -> None:
    home = edited_home(tmp_path, FIELDS, "  TyleDong: const:32\n", "  TyleDong: const:320\n")
    done = _check(home, "2026.1")
    assert done.returncode == 1, done.stdout + done.stderr
    rows = [line for line in done.stderr.splitlines() if "/LaoDong[" in line]
    assert len(rows) == 1 and "LaoDong[*]/TyleDong (2 rows)" in rows[0], done.stderr


def test_an_unknown_faker_method_hint_lists_the_closest_names_only(
    tmp_path: Path, pki_dir: Path
) -> None:
    home = edited_home(tmp_path, FIELDS, "  ChucVu: faker.job_title", "  ChucVu: faker.country_vi")
    done = _check(home, "2024.1")
    assert done.returncode == 1, done.stdout + done.stderr
    hint = next(line for line in done.stderr.splitlines() if line.startswith("Hint: "))
    assert "'country'" in hint and "more" in hint and len(hint) < 400, hint
