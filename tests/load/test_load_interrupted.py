"""A load run stopped once locust measured something leaves a report bundle marked
interrupted (results.json, MANIFEST.json, the statistics so far), not a folder that reads
as a run still going; one stopped before that leaves no folder at all."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.load import run_load
from harness.load.lifetime import Interrupted
from harness.load.processes import STATS_PREFIX
from harness.reporting import verify_bundle
from harness.signing import TestPKI


def _stop(signum: int, when: Callable[[str], bool]) -> Callable[[str], None]:
    """A ``notify`` that stops the run, as Ctrl-C or SIGTERM would, at the first line
    ``when`` picks (a SIGTERM is :class:`Interrupted` by the time it reaches the run)."""

    def notify(line: str) -> None:
        if when(line):
            raise Interrupted(signum) if signum == signal.SIGTERM else KeyboardInterrupt

    return notify


def _measuring(out: Path) -> Callable[[str], bool]:
    """A progress line once locust has written its statistics file."""
    return lambda line: line.startswith("  ") and any(out.glob(f"*/{STATS_PREFIX}_stats.csv"))


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")]
)
def test_a_run_stopped_while_measuring_writes_its_bundle_marked_interrupted(
    tmp_path: Path, pki: TestPKI, signum: int, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.load.processes.PROGRESS_EVERY", 0.5)  # stop soon after it starts
    with pytest.raises(Interrupted) as stopped:
        run_load(
            "local", "flat", duration=30, out=tmp_path, notify=_stop(signum, _measuring(tmp_path))
        )

    folder = stopped.value.directory
    assert folder is not None and folder.parent == tmp_path
    assert verify_bundle(folder) == []
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "interrupted" and data["cases"] == []
    assert data["interrupted"]["signal"] == name
    assert data["interrupted"]["exit_code"] == stopped.value.exit_code == 128 + signum
    assert data["run"]["meta"]["reproduce"].startswith("bhxh-harness load --gateway local")
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    assert f"{STATS_PREFIX}_stats.csv" in manifest["files"]
    assert not (folder / "verdict.html").exists()  # nothing was judged


def test_a_run_stopped_before_locust_measured_leaves_no_folder(
    tmp_path: Path, pki: TestPKI
) -> None:
    notify = _stop(signal.SIGTERM, lambda line: line.startswith("signing the dossier pools"))
    with pytest.raises(Interrupted) as stopped:
        run_load("local", "flat", duration=30, out=tmp_path, notify=notify)
    assert stopped.value.directory is None and list(tmp_path.iterdir()) == []
