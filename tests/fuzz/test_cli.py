"""``bhxh-harness fuzz --gateway inproc``: the real mock gateway passes a CI-sized budget."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main


def test_fuzz_inproc_gateway_passes_and_writes_a_report(tmp_path: Path, pki_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["fuzz", "--budget", "60", "--out", str(tmp_path), "--found", str(tmp_path / "found")],
    )
    assert result.exit_code == 0, result.output
    [folder] = list(tmp_path.glob("fuzz-*"))
    assert "fuzz: PASSED: 0 distinct failure(s) in 60 cases" in result.output
    assert result.output.rstrip().endswith(f"report: {folder / 'index.html'}")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "passed" and data["run"]["meta"]["cases"] == 60
    families = {c["case_id"].split("@")[0] for c in data["cases"]}
    assert families >= {"FUZZ-valid", "FUZZ-signature"}
    procedures = {c["procedure"] for c in data["cases"]}
    assert len(procedures) > 1 and "" not in procedures  # the matrix shows what was reached


def test_fuzz_url_without_token_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["fuzz", "--gateway", "http://127.0.0.1:9", "--budget", "1"])
    assert result.exit_code == 2 and "--token" in result.stderr
