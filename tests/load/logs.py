"""What the load tests read of a run's locust logs: the lines locust logs as errors.

Locust logs ``[time] host/LEVEL/logger: message``; an error it logs while stopping (e.g.
"While stopping users, we encountered a user that didn't have proper args") says a stop
went wrong even when the run's figures look right, and a traceback gevent prints for a
greenlet that died is as bad.
"""

from __future__ import annotations

import re
from pathlib import Path

_ERROR = re.compile(r"^\[[^\]]*\] [^/\s]+/(ERROR|CRITICAL)/|^Traceback \(most recent call last\)")


def locust_errors(report: Path) -> list[str]:
    """Every error line of every locust log (master, workers or the single process) of the
    run whose report folder is ``report``, each prefixed by its log's name."""
    logs = sorted((report / "logs").glob("locust*.log"))
    assert logs, f"no locust log in {report / 'logs'}"
    return [
        f"{log.name}: {line}"
        for log in logs
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        if _ERROR.search(line)
    ]
