"""``record`` and ``regress`` as commands: exit codes, report bundle, per-procedure table."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from click.testing import CliRunner

from harness.regression.cli import record, regress
from harness.reporting import verify_bundle
from tests.regression.conftest import LENIENT


def test_record_then_regress_a_faulty_release_writes_a_failing_report(
    tmp_path: Path, pki_dir: Path
) -> None:
    root = tmp_path / "baselines"
    common = ["--root", str(root)]
    recorded = CliRunner().invoke(
        record, ["--name", "cli", "--catalog", "2026.1", "--procedure", "600", *common]
    )
    common += LENIENT  # outcomes are this test's subject; latency on a busy box is noise
    assert recorded.exit_code == 0, recorded.output
    assert "baseline cli:" in recorded.output

    clean = CliRunner().invoke(regress, ["--baseline", "cli", "--out", str(tmp_path), *common])
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.startswith("regression: PASSED: 0 unintended")

    out = tmp_path / "faulty"
    faulty_args = ["--baseline", "cli", "--release", "pa-code-removed", "--out", str(out), *common]
    faulty_args += ["--serve-catalog", "2024.1", "--serve-catalog", "2026.1", "--token", "T0P"]
    faulty_params = regress.make_context("regress", list(faulty_args)).params
    faulty = CliRunner().invoke(regress, faulty_args)
    assert faulty.exit_code == 1, faulty.output
    lines = faulty.stdout.splitlines()
    assert lines[0].startswith("regression: FAILED: ") and lines[-1].startswith("report: ")
    [group] = [line for line in lines if "newly-rejected" in line]
    assert " in 600; e.g. 600/" in group and ": 202 accepted -> 400 XSD-001" in group
    [folder] = list(out.glob("regression-*"))
    assert verify_bundle(folder) == []
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "failed"
    failed = {c["case_id"] for c in data["cases"] if c["outcome"] == "failed"}
    assert failed == {"REG-newly-rejected@600"}
    case = next(c for c in data["cases"] if c["case_id"] == "REG-newly-rejected@600")
    [evidence] = case["evidence"].values()
    assert "expected: 202 accepted" in evidence and "actual:   400 XSD-001" in evidence
    words = shlex.split(case["reproduce"])
    assert words[:2] == ["bhxh-harness", "regress"]
    assert "T0P" not in case["reproduce"]  # a report is shared, a credential is not
    assert regress.make_context("regress", words[2:]).params == faulty_params | {"token": "<token>"}
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "REG-newly-rejected" in html and "<th>600</th>" in html
    assert "<script src" not in html and "<link" not in html  # self-contained
    assert (folder / "junit.xml").is_file()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = CliRunner().invoke(regress, ["--baseline", "nope", "--root", str(tmp_path)])
    assert missing.exit_code == 2 and "no baseline 'nope'" in missing.stderr
    no_token = CliRunner().invoke(
        record, ["--name", "x", "--gateway", "http://127.0.0.1:9", "--root", str(tmp_path)]
    )
    assert no_token.exit_code == 2 and "token" in no_token.stderr


def test_record_warns_when_the_gateway_is_not_known_good(tmp_path: Path, pki_dir: Path) -> None:
    args = ["--name", "odd", "--catalog", "2026.1", "--procedure", "600", "--root", str(tmp_path)]
    clean = CliRunner().invoke(record, args)
    assert clean.exit_code == 0 and "warning" not in clean.output
    again = CliRunner().invoke(record, [*args, "--release", "pa-code-removed"])
    assert again.exit_code == 2 and "baseline odd already exists" in again.stderr
    assert "--force" in again.stderr and "replayed" not in again.output
    faulty = CliRunner().invoke(record, [*args, "--release", "pa-code-removed", "--force"])
    assert faulty.exit_code == 0, faulty.output  # recorded all the same
    assert "not answered as the corpus expects; is this gateway known-good?" in faulty.output
    assert "600/valid-0000: expected accepted, got XSD-001" in faulty.output
