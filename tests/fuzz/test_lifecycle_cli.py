"""``bhxh-harness fuzz`` runs the lifecycle machine: a violation is a failure (exit 1) with
the property and its steps in the summary, results.json and the report's FUZZ-lifecycle
case; URL-only options are refused with ``inproc``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main


def test_a_lifecycle_violation_fails_the_run_with_its_steps(tmp_path: Path, pki_dir: Path) -> None:
    out, found = tmp_path / "out", tmp_path / "found"
    args = ["fuzz", "--release", "idempotency-broken", "--family", "valid", "--budget", "7"]
    args += ["--lifecycle-steps", "60", "--out", str(out), "--found", str(found)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "lifecycle: lifecycle-idempotent:" in result.output
    assert "submit as IVAN01: dossier 0" in result.output
    data = json.loads(next(out.glob("*/results.json")).read_text(encoding="utf-8"))
    lifecycle = data["lifecycle"]
    meta = data["run"]["meta"]["lifecycle"]  # the run details show words, not a dict
    assert re.match(r"dossier lifecycle, \d+ of 60 steps \(IVAN01, IVAN02\): lifecycle-", meta)
    assert lifecycle["failure"]["check"] == "lifecycle-idempotent"
    assert lifecycle["failure"]["steps"][0].startswith("submit as IVAN01: dossier 0")
    case = next(c for c in data["cases"] if c["case_id"] == "FUZZ-lifecycle")
    assert case["outcome"] == "failed"


def test_admin_and_second_ivan_tokens_are_for_a_url(tmp_path: Path) -> None:
    for option in (["--admin-token", "secret"], ["--ivan-token", "IVAN02=secret"]):
        result = CliRunner().invoke(main, ["fuzz", "--budget", "5", *option])
        assert result.exit_code == 2, result.output
        assert f"{option[0]} is for a gateway URL" in result.stderr


def test_negative_lifecycle_steps_are_refused() -> None:
    result = CliRunner().invoke(main, ["fuzz", "--budget", "5", "--lifecycle-steps", "-1"])
    assert result.exit_code == 2, result.output
    assert "--lifecycle-steps -1" in result.stderr
