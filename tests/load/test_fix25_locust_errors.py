"""The load tests' reading of locust's logs finds the errors locust logs, and only those:
a stop test that asserts none were logged must not pass because it misread the format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.logs import locust_errors

WORKER_LOG = """\
[2026-11-27 15:29:03,192] vm/INFO/locust.main: Starting Locust 2.47.0
[2026-11-27 15:29:04,000] vm/WARNING/locust.runners: Your selected spawn rate is very high (>100)
[2026-11-27 15:29:13,638] vm/ERROR/locust.runners: While stopping users, we encountered a user \
that didn't have proper args <Greenlet at 0x7f: _run>
Traceback (most recent call last):
  File "x.py", line 1, in <module>
POST     submit      9     0(0.00%) |     16       5      74     10 |    1.58        0.00
"""


def test_the_errors_of_every_locust_log_are_found(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "locust-master.log").write_text("Response time percentiles\n", encoding="utf-8")
    (logs / "locust-worker-1.log").write_text(WORKER_LOG, encoding="utf-8")
    (logs / "gateway.log").write_text("[t] vm/ERROR/uvicorn: not locust's\n", encoding="utf-8")
    found = locust_errors(tmp_path)
    assert len(found) == 2, found
    assert found[0].startswith("locust-worker-1.log: [") and "didn't have proper args" in found[0]
    assert found[1] == "locust-worker-1.log: Traceback (most recent call last):"


def test_a_report_without_locust_logs_is_not_taken_for_a_clean_one(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    with pytest.raises(AssertionError, match="no locust log"):
        locust_errors(tmp_path)
