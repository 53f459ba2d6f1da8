"""A run that broke is an ERROR, not a FAILED gateway; a gateway URL written with a trailing
slash is the same gateway (it used to break every locust user: '//api/v1/dossiers')."""

from __future__ import annotations

import json
from pathlib import Path

from harness.load import run_load
from harness.paths import project_root
from harness.signing import TestPKI
from mock_gateway.testing import ServerProcess

_BROKEN_LOCUSTFILE = """
import runpy

import harness.load.submitter


def _boom(self):
    raise ValueError("boom from the test's locustfile")


harness.load.submitter.Submitter.submit = _boom
globals().update(runpy.run_path({real!r}))
"""


def test_a_trailing_slash_on_the_gateway_url_is_dropped(tmp_path: Path, pki: TestPKI) -> None:
    with ServerProcess(tmp_path / "gateway.sqlite3", clock_speed=900) as server:
        result = run_load(server.url + "/", "flat", duration=4, out=tmp_path / "r")
    submit = result.measurements.steps["submit"]
    assert not result.error and submit.requests > 0 and submit.failures == 0, result.summary()


def test_exceptions_inside_locust_users_make_the_verdict_error(
    tmp_path: Path, pki: TestPKI
) -> None:
    locustfile = tmp_path / "locustfile.py"
    real = project_root() / "scenarios" / "load" / "locustfile.py"
    locustfile.write_text(_BROKEN_LOCUSTFILE.format(real=str(real)), encoding="utf-8")
    result = run_load("local", "flat", duration=3, locustfile=locustfile, out=tmp_path)
    assert result.verdict == "ERROR"
    assert "exception(s) inside the load users" in result.error
    assert "boom from the test's locustfile" in result.error
    assert result.summary().startswith("verdict: ERROR")
    folder = result.directory
    assert "<error" in (folder / "junit.xml").read_text(encoding="utf-8")
    cases = json.loads((folder / "results.json").read_text(encoding="utf-8"))["cases"]
    assert {c["case_id"]: c["outcome"] for c in cases}["load-run"] == "error"
    assert "Verdict: ERROR" in (folder / "verdict.html").read_text(encoding="utf-8")
