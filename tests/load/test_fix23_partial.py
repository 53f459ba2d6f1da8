"""A load run stopped by SIGTERM or Ctrl-C once it sent dossiers reports the figures of
what ran, labelled partial: the table by procedure, the dossiers, the feed left at the stop
(results.json, partial.html, the terminal lines), and still no verdict."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.load import run_load
from harness.load.breakdown import OUTCOMES, TOTAL
from harness.load.lifetime import Interrupted
from harness.reporting import verify_bundle
from harness.signing import TestPKI

PARTIAL, PARTIAL_PAGE = "partial figures", "partial.html"  # result.PARTIAL, PARTIAL_PAGE


def _stop_once_sent(signum: int) -> Callable[[str], None]:
    """A ``notify`` that stops the run, as the signal would, at the first progress line
    counting a request (a SIGTERM is :class:`Interrupted` by the time it reaches the run)."""

    def notify(line: str) -> None:
        found = re.search(r"users, ([\d,]+) requests", line)
        if found and int(found.group(1).replace(",", "")) > 0:
            raise Interrupted(signum) if signum == signal.SIGTERM else KeyboardInterrupt

    return notify


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_reports_what_ran_by_procedure_labelled_partial(
    tmp_path: Path, pki: TestPKI, signum: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.load.processes.PROGRESS_EVERY", 0.5)
    with pytest.raises(Interrupted) as stopped:
        run_load("local", "flat", duration=30, out=tmp_path, notify=_stop_once_sent(signum))

    folder = stopped.value.directory
    assert folder is not None and verify_bundle(folder) == []
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "interrupted" and data["cases"] == []
    assert data["partial"].startswith("partial: what ran before")
    assert data["run"]["meta"][PARTIAL] == data["partial"]

    # the master wrote its lifecycle file at the stop, and the table adds up to its totals
    lifecycle = json.loads((folder / "lifecycle.json").read_text(encoding="utf-8"))
    sent = sum(lifecycle["counts"].get(k, 0) for k in OUTCOMES)
    rows = data["procedures"]
    assert sent > 0 and sum(row["sent"] for row in rows.values()) == sent
    assert set(rows) >= {"600", "601"}  # every procedure of the mix, as a finished run has
    assert "sent before the stop" in data["run"]["meta"]["dossiers"]
    assert set(data["feed_at_stop"]) == {"IVAN01"}

    page = (folder / PARTIAL_PAGE).read_text(encoding="utf-8")
    assert "By procedure (partial: up to the stop)" in page and 'id="procedures"' in page
    assert 'id="levels"' not in page  # no level was judged
    assert not (folder / "verdict.html").exists()

    figures = getattr(stopped.value, "figures", [""])
    assert figures[0].startswith(f"{PARTIAL}: partial: what ran before")
    assert "by procedure, up to the stop (partial figures):" in figures
    assert any(line.lstrip().startswith(f"{TOTAL} ") for line in figures)
    assert "lifecycle times: simulated seconds as the I-VAN saw them: " in "\n".join(figures)
