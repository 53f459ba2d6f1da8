"""The README's first command: the demo runs end to end and writes a verifiable report."""

from __future__ import annotations

import json
from pathlib import Path

from harness.demo import run_demo
from harness.reporting import Outcome, verify_bundle


def test_demo_passes_every_case_and_writes_the_bundle(tmp_path: Path, pki_dir: Path) -> None:
    outcome = run_demo("2024.1", seed=3, out=tmp_path)
    failures = [c for c in outcome.bundle.cases if c.outcome is not Outcome.PASSED]
    assert not failures, [(c.case_id, c.message) for c in failures]
    folder = outcome.directory
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    procedures = {c["procedure"] for c in results["cases"]}
    assert procedures == {"600", "601", "604", "607", "610", "612"}
    kinds = {c["case_id"].split("@")[0] for c in results["cases"]}
    assert {"submit", "lifecycle"} <= kinds and len(kinds) > 3
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert "Verdict: PASSED" in html and 'id="matrix"' in html
    assert (folder / "junit.xml").is_file() and (folder / "gateway.sqlite3").is_file()
    assert verify_bundle(folder) == []
