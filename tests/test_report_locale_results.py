"""results.json under an ASCII locale (``PYTHONUTF8=0 LC_ALL=C``): a run's text holding an
argument's surrogate escapes (``--out /tmp/báo-cáo`` in its reproduce line) is written
as the characters typed, and the bundle verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.regression import record
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo, verify_bundle
from harness.signing import TestPKI
from tests.test_report_ascii_locale import ESCAPED, TYPED


def _results(folder: Path) -> str:
    return (folder / "results.json").read_text(encoding="utf-8")


def test_results_json_holds_the_characters_typed(tmp_path: Path) -> None:
    folder = tmp_path / ESCAPED / "run-1"
    command = f"bhxh-harness regress --out {folder.parent}"
    info = RunInfo("run-1", "regression", "t", "2026-01-01T00:00:00+00:00", meta={"cmd": command})
    case = CaseResult(
        case_id="submit@600",
        title="submit",
        outcome=Outcome.PASSED,
        procedure="600",
        reproduce=command,
    )
    ReportBundle(info, folder, [case]).write()

    data = json.loads(_results(tmp_path / TYPED / "run-1"))
    assert data["run"]["meta"]["cmd"] == data["cases"][0]["reproduce"]
    assert data["cases"][0]["reproduce"].endswith(f"--out {tmp_path / TYPED}")
    assert verify_bundle(folder) == []


def test_regress_writes_its_report_in_a_folder_named_under_an_ascii_locale(
    tmp_path: Path, pki: TestPKI, pki_dir: Path
) -> None:
    record(gateway="inproc", name="b600", procedures=("600",), root=tmp_path, pki=pki)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env |= {"PYTHONUTF8": "0", "LC_ALL": "C", "BHXH_HARNESS_PKI": str(pki_dir)}
    out = tmp_path / TYPED
    command = ["regress", "--baseline", "b600", "--root", str(tmp_path), "--out", str(out)]
    command += ["--p50-ratio", "1000", "--p95-ratio", "1000"]  # the locale is judged, not latency
    done = subprocess.run(
        [sys.executable, "-m", "harness", *command],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")
    (folder,) = out.iterdir()
    assert verify_bundle(folder) == []
    assert f"--out '{out}'" in _results(folder)  # quoted, as the shell wants it
