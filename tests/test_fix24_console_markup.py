"""Consoles print a gateway's, a dossier's or a path's text as written: Rich markup would
eat ``[gateway]`` or ``[main]`` from a message, and fail on a stray ``[/x]``."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harness.demo import DemoOutcome, _print
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo


def test_the_demo_prints_a_case_message_and_its_folder_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "[run]"
    info = RunInfo("demo-20261127T000000Z-abcdef", "demo", "demo", "2026-11-27T00:00:00+00:00")
    bundle = ReportBundle(info, folder)
    bundle.add(CaseResult("DEMO-01@600", "a case", Outcome.FAILED, message="[main] ERROR [/x]"))
    out = io.StringIO()
    _print(DemoOutcome(bundle, folder), Console(file=out, width=200, markup=False))
    assert "[main] ERROR [/x]" in out.getvalue()
    assert "verdict: FAILED" in out.getvalue() and "[run]" in out.getvalue()
