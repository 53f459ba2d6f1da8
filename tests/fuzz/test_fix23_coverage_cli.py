"""Fix 23, at the command line: ``bhxh-harness fuzz`` shows the cases each procedure got,
and a run whose budget left a procedure without a case is INCOMPLETE (exit 3), naming it,
as a run whose --family got no case already was."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from harness.catalog import load_catalog
from harness.cli import main

CATALOG = "2026.1"


def _cli(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    command = ["fuzz", "--catalog", CATALOG, "--out", str(out), "--found", str(found), *args]
    return CliRunner().invoke(main, command)


def _results(tmp_path: Path) -> dict[str, object]:
    [folder] = (tmp_path / "out").glob("fuzz-*")
    data: dict[str, object] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return data


def _line(result: Result, start: str) -> str:
    [line] = [x.strip() for x in result.stdout.splitlines() if x.strip().startswith(start)]
    return line


def test_the_default_budget_reaches_every_procedure_and_says_so(
    tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--seed", "2")  # seed 2 sent 601 and 610 nothing, and PASSED
    assert result.exit_code == 0, result.output
    counts = _results(tmp_path)["run"]["meta"]["cases_by_procedure"]  # type: ignore[index]
    assert set(counts) == set(load_catalog(CATALOG).procedures) and all(counts.values())
    shown = ", ".join(f"{p} {n}" for p, n in counts.items())
    assert _line(result, "cases by procedure:") == f"cases by procedure: {shown}"


def test_a_budget_too_small_for_every_procedure_is_incomplete_and_names_them(
    tmp_path: Path, pki_dir: Path
) -> None:
    procedures = list(load_catalog(CATALOG).procedures)
    budget = len(procedures) - 2
    result = _cli(tmp_path, "--budget", str(budget))
    assert result.exit_code == 3, result.output
    assert result.stdout.startswith(f"fuzz: INCOMPLETE: 0 distinct failure(s) in {budget} cases")
    missed = procedures[budget:]
    assert _line(result, "no verdict on procedure(s)").startswith(
        f"no verdict on procedure(s) {', '.join(missed)}: no case of it ran in {budget} cases"
    )
    assert "raise --budget" in result.stdout
    assert _line(result, "cases by procedure:").endswith(", ".join(f"{p} 0" for p in missed))
    data = _results(tmp_path)
    assert data["verdict"] == "incomplete"
    assert data["run"]["meta"]["unreached_procedures"] == missed  # type: ignore[index]


def test_a_family_of_some_procedures_is_judged_over_those_only(
    tmp_path: Path, pki_dir: Path
) -> None:
    result = _cli(tmp_path, "--budget", "12", "--family", "wage")
    assert result.exit_code == 0, result.output
    meta = _results(tmp_path)["run"]["meta"]  # type: ignore[index]
    counts = meta["cases_by_procedure"]
    assert len(counts) < len(load_catalog(CATALOG).procedures) and all(counts.values())
    assert meta["unreached_procedures"] == []


def test_the_help_says_procedures_take_turns() -> None:
    text = " ".join(CliRunner().invoke(main, ["fuzz", "--help"]).output.split())
    assert "Each gets a case before any gets a second" in text
    assert "or a procedure, got no case (INCOMPLETE" in text
