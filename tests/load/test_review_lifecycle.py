"""lifecycle.json is written in one step, and one that cannot be read (locust stopped
while writing it) makes the run an ERROR with a report, not a JSONDecodeError traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.load.lifecycle_log as ivan
from harness.load import run_load
from harness.load.lifecycle_log import LifecycleLog
from harness.paths import project_root
from harness.signing import TestPKI

_TRUNCATING_LOCUSTFILE = """
import runpy
from pathlib import Path

from locust import events

globals().update(runpy.run_path({real!r}))


@events.init.add_listener
def _after_the_real_one(environment, **_kw):
    @environment.events.quit.add_listener
    def _truncate(exit_code, **_):  # runs after the real writer: half a file is left
        path = Path({out!r})
        for found in path.rglob("lifecycle.json"):
            found.write_text(found.read_text(encoding="utf-8")[:20], encoding="utf-8")
"""


def test_a_half_written_lifecycle_file_is_a_run_error_with_a_report(
    tmp_path: Path, pki: TestPKI
) -> None:
    locustfile = tmp_path / "locustfile.py"
    real = project_root() / "scenarios" / "load" / "locustfile.py"
    out = tmp_path / "reports"
    locustfile.write_text(
        _TRUNCATING_LOCUSTFILE.format(real=str(real), out=str(out)), encoding="utf-8"
    )
    result = run_load("local", "flat", duration=2, locustfile=locustfile, out=out)
    assert result.verdict == "ERROR"
    assert "lifecycle.json could not be read" in result.error
    assert "lifecycle times and dossiers still pending were not measured" in result.error
    cases = json.loads((result.directory / "results.json").read_text(encoding="utf-8"))["cases"]
    assert {c["case_id"]: c["outcome"] for c in cases}["load-run"] == "error"


def test_the_lifecycle_file_is_replaced_in_one_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lifecycle.json"
    log = LifecycleLog()
    log.count("accepted", 3)
    log.write(path)
    assert json.loads(path.read_text(encoding="utf-8"))["counts"] == {"accepted": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["lifecycle.json"]

    def stopped(*_args: object) -> None:
        raise KeyboardInterrupt  # locust stopped before the new file took the old one's place

    monkeypatch.setattr(ivan.os, "replace", stopped)
    log.count("accepted", 1)
    with pytest.raises(KeyboardInterrupt):
        log.write(path)
    assert json.loads(path.read_text(encoding="utf-8"))["counts"] == {"accepted": 3}
