"""Fix 24, at the command line: ``bhxh-harness fuzz`` shows the cases each form version got,
older ones the catalog still accepts included, and a budget that left one without a case
is INCOMPLETE (exit 3), naming it. Run in a child process: it reads a copy of ``fixtures/``
whose 2026.1 accepts older versions (``BHXH_HARNESS_HOME``), which this process's catalog
cache would not see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.cli import main
from harness.paths import fixtures_dir
from tests.fuzz.test_fix24_form_versions import OLDER, older_catalog

PROCEDURES = len(load_catalog("2026.1").procedures)


def _fuzz(
    tmp_path: Path, budget: int
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    """``fuzz --budget`` in process against a copy of the fixtures whose 2026.1 accepts
    :data:`OLDER` too; its output and results.json."""
    home = tmp_path / "home"
    shutil.copytree(fixtures_dir(), home / "fixtures", ignore=shutil.ignore_patterns("2026.1"))
    older_catalog(home / "fixtures" / "catalog")  # 2026.1, accepting older versions too
    out, found = tmp_path / "out", tmp_path / "found"
    args = [
        "--catalog",
        "2026.1",
        "--budget",
        str(budget),
        "--family",  # the valid dossiers alone: this budget leaves the mutant families out
        "valid",
        "--out",
        str(out),
        "--found",
        str(found),
    ]
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home), "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "fuzz", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    [results] = out.glob("fuzz-*/results.json")
    return done, json.loads(results.read_text(encoding="utf-8"))


def _line(stdout: str, start: str) -> str:
    [line] = [x.strip() for x in stdout.splitlines() if x.strip().startswith(start)]
    return line


def test_every_form_version_gets_a_case_and_the_summary_counts_them(
    tmp_path: Path, pki_dir: Path
) -> None:
    done, data = _fuzz(tmp_path, PROCEDURES + len(OLDER))
    assert done.returncode == 0, done.stdout + done.stderr
    counts = data["run"]["meta"]["cases_by_form_version"]  # type: ignore[index]
    assert all(counts.values()) and {f"{f}-{v}" for f, v in OLDER.items()} <= set(counts)
    shown = _line(done.stdout, "cases by form version:").removeprefix("cases by form version: ")
    pairs = [item.rsplit(" ", 1) for item in shown.split(", ")]
    assert {v: int(n) for v, n in pairs} == counts  # results.json sorts them, the line does not
    assert pairs[0][0] == "D02-TS-505"  # the catalog's order: its first form first


def test_a_budget_leaving_an_older_version_without_a_case_is_incomplete(
    tmp_path: Path, pki_dir: Path
) -> None:
    budget = PROCEDURES + 1  # room for TK1-TS-590 only
    done, data = _fuzz(tmp_path, budget)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stdout.startswith(f"fuzz: INCOMPLETE: 0 distinct failure(s) in {budget} cases")
    assert _line(done.stdout, "no verdict on form version(s)") == (
        f"no verdict on form version(s) D01-TS-590: no case of it ran in {budget} cases; "
        "raise --budget (or --duration)"
    )
    assert "D01-TS-590 0" in _line(done.stdout, "cases by form version:")
    assert data["verdict"] == "incomplete"
    assert data["run"]["meta"]["unreached_form_versions"] == ["D01-TS-590"]  # type: ignore[index]


def test_the_help_says_every_form_version_gets_a_case() -> None:
    text = " ".join(CliRunner().invoke(main, ["fuzz", "--help"]).output.split())
    assert "each older version gets one" in text
    assert "a form version that got no case makes the run INCOMPLETE" in text
