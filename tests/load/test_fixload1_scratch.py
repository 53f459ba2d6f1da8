"""A load run killed with SIGKILL leaves its scratch folder (pools, the local gateway's
SQLite store) behind; the next run removes it, and never the folder of a run still going."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.load import run_load
from harness.load.lifetime import (
    SCRATCH_PREFIX,
    Interrupted,
    remove_stale_scratch,
    scratch_folder,
)
from harness.owned_folders import OWNER_LOCK
from harness.signing import TestPKI

_HOLD = """
import sys, time
from harness.load.lifetime import scratch_folder
with scratch_folder() as folder:
    (folder / "pool.bin").write_bytes(b"x" * 1000)
    print(folder, flush=True)
    time.sleep(600)
"""


def _killed_run_folder(root: Path) -> Path:
    """The scratch folder of a process that was then killed with SIGKILL."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD],
        stdout=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(root)},
    ) as holder:
        assert holder.stdout is not None
        folder = Path(holder.stdout.readline().decode().strip())
        holder.send_signal(signal.SIGKILL)
    assert folder.is_dir() and (folder / OWNER_LOCK).is_file()
    return folder


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of this test's runs."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return tmp_path / "tmp"


def test_only_the_folders_of_killed_runs_are_removed(root: Path) -> None:
    killed = _killed_run_folder(root)
    foreign = root / f"{SCRATCH_PREFIX}older-version"  # no owner lock: not known to be ours
    foreign.mkdir()
    with scratch_folder() as running:
        assert remove_stale_scratch() == [killed]
        assert running.is_dir() and foreign.is_dir() and not killed.exists()
    assert not running.exists()  # a run's own folder goes when it ends


def test_the_next_run_removes_what_a_killed_run_left(
    root: Path, tmp_path: Path, pki: TestPKI
) -> None:
    killed = _killed_run_folder(root)
    said: list[str] = []

    def notify(line: str) -> None:
        said.append(line)
        if line.startswith("signing the dossier pools"):
            raise Interrupted(signal.SIGTERM)  # enough: the sweep comes first

    started = time.monotonic()
    with pytest.raises(Interrupted):
        run_load("local", "flat", duration=3, out=tmp_path / "reports", notify=notify)
    assert time.monotonic() - started < 60
    assert not killed.exists()
    assert "removed 1 scratch folder(s) that killed load runs left behind" in said
    assert list(root.iterdir()) == []
