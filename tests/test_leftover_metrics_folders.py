"""The /metrics folder of a multi-worker server killed with SIGKILL is removed by the next
server; a live server's folder, or anything else in /tmp, never is."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness.owned_folders import OWNER_LOCK
from harness.signing import TestPKI
from mock_gateway.metrics_folders import (
    METRICS_PREFIX,
    metrics_folder,
    remove_stale_metrics_folders,
)
from mock_gateway.testing import ServerProcess


def _metrics_folders(root: Path) -> list[Path]:
    return sorted(root.glob(f"{METRICS_PREFIX}*"))


def _abandoned_folder(root: Path, name: str) -> Path:
    """What a killed server leaves: its workers' files and a lock nobody holds."""
    folder = root / name
    folder.mkdir()
    (folder / OWNER_LOCK).touch()
    (folder / "worker-1-abcdef01.json").write_text("{}", encoding="utf-8")
    return folder


def _killed_server_folder(scratch: Path, database: Path) -> Path:
    """Start a two-worker server, SIGKILL it once its metrics folder is claimed."""
    command = ServerProcess(database, workers=2).command
    with open(database.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not list(scratch.glob(f"{METRICS_PREFIX}*/{OWNER_LOCK}")):
            assert process.poll() is None, database.with_suffix(".log").read_text()
            assert time.monotonic() < deadline, "the server claimed no metrics folder"
            time.sleep(0.05)
    finally:
        process.kill()  # SIGKILL: no clean-up runs
        process.wait(timeout=20)
    [left] = _metrics_folders(scratch)
    return left


def test_the_next_server_removes_what_a_killed_one_left(
    tmp_path: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    del pki
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the servers' temporary folder, not /tmp
    left = _killed_server_folder(scratch, tmp_path / "a.sqlite3")
    assert left.is_dir()
    with ServerProcess(tmp_path / "b.sqlite3"):  # any next server, one worker is enough
        assert not left.exists()
    assert _metrics_folders(scratch) == []


def test_only_abandoned_folders_of_ours_are_removed(tmp_path: Path) -> None:
    abandoned = _abandoned_folder(tmp_path, f"{METRICS_PREFIX}killed01")
    older = tmp_path / f"{METRICS_PREFIX}noowner1"  # no lock: not known to be ours
    older.mkdir()
    other = _abandoned_folder(tmp_path, "someone-elses-folder")
    target = _abandoned_folder(tmp_path, "linked-target")
    (tmp_path / f"{METRICS_PREFIX}link0001").symlink_to(target, target_is_directory=True)
    held = _abandoned_folder(tmp_path, f"{METRICS_PREFIX}held0001")
    descriptor = os.open(held / OWNER_LOCK, os.O_RDONLY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # as its live server holds it
    try:
        with metrics_folder(tmp_path) as live:
            assert remove_stale_metrics_folders(tmp_path) == [abandoned]
            assert Path(live).is_dir()
    finally:
        os.close(descriptor)
    assert not abandoned.exists()
    assert all(p.is_dir() for p in (older, other, target, held))
    assert not Path(live).exists()


def test_no_usable_temporary_folder_is_said_as_such(tmp_path: Path) -> None:
    from harness.errors import ConfigError

    missing = metrics_folder(tmp_path / "missing")
    with pytest.raises(ConfigError, match="share /metrics") as caught, missing:
        pass
    assert "TMPDIR" in (caught.value.hint or "")
