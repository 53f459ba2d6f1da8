"""Short load runs send, and a run that sent no dossier never passes.

A 5-second run against a slow gateway used to send nothing: the shape's clock started
while each generator was still finding the end of its feed (one slow read at least), so
the duration was over before any user started, and the report blamed "random gaps". And a
service-level file judging only what needs no dossier (feed latency, error rate) passed
a run whose users never sent one. Real locust processes against a local gateway on
127.0.0.1; every run stops by itself within seconds.
"""

from __future__ import annotations

from pathlib import Path

from harness.load import run_load
from harness.load.ivan import ABANDONED, ACCEPTED, IN_FLIGHT, REJECTED
from harness.paths import scenarios_dir
from harness.signing import TestPKI

SENT = (ACCEPTED, REJECTED, ABANDONED, IN_FLIGHT)


def test_a_short_run_against_a_slow_gateway_sends_its_dossiers(
    pki: TestPKI, tmp_path: Path
) -> None:
    # every answer takes 4 s, longer than the whole 3-second run
    result = run_load("local", duration=3, fault_latency=4.0, out=tmp_path)
    counts = result.measurements.counts
    assert sum(counts.get(k, 0) for k in SENT) >= 1, result.summary()
    assert result.verdict == "FAILED", result.summary()  # judged: the gateway is too slow


IDLE_LOCUSTFILE = """
from pathlib import Path

_REAL = {real!r}
exec(compile(Path(_REAL).read_text(encoding="utf-8"), _REAL, "exec"))


def _send_nothing(user):
    '''A generator that never sends a dossier (its feed reader still reads).'''


IvanUser.tasks = [_send_nothing]
"""

NO_DOSSIER_LEVELS = "latency_ms:\n  feed: {p95: 10000}\nerror_rate: 0.5\n"


def test_a_run_that_sent_no_dossier_is_an_error_not_a_pass(pki: TestPKI, tmp_path: Path) -> None:
    locustfile = tmp_path / "idle_locustfile.py"
    real = scenarios_dir() / "load" / "locustfile.py"
    locustfile.write_text(IDLE_LOCUSTFILE.format(real=str(real)), encoding="utf-8")
    levels = tmp_path / "levels.yaml"
    levels.write_text(NO_DOSSIER_LEVELS, encoding="utf-8")
    result = run_load(
        "local",
        duration=3,
        locustfile=locustfile,
        service_levels=levels,
        out=tmp_path / "reports",
    )
    assert not result.passed
    assert result.verdict == "ERROR"
    assert "no dossier was sent" in result.error
    assert "--duration" in result.error
