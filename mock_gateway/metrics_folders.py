"""The folder where a multi-worker server's workers share ``/metrics``, and the sweep of
folders left by servers killed with SIGKILL.

Each folder holds an ``owner.lock`` its supervisor keeps ``flock``-ed while it serves; the
kernel releases the lock when the process dies, however it dies, so an unlocked folder is
abandoned. A lock beats a pid file: pids are reused, and containers sharing /tmp see
different ones.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import ConfigError

log = logging.getLogger(__name__)

METRICS_PREFIX = "bhxh-gateway-metrics-"
OWNER_LOCK = "owner.lock"
"""A file in each metrics folder its supervisor holds ``flock``-ed while it serves: the
kernel drops the lock when the process dies, however it dies, PID reuse and containers
that share /tmp notwithstanding."""


def _hold(folder: Path) -> int | None:
    """Lock :data:`OWNER_LOCK` in ``folder`` for this process; the descriptor to close
    (None where the file system has no ``flock``: the folder is then never swept).

    The file is locked under a private name and then renamed, so a sweeping server never
    finds it present but not yet locked.
    """
    partial = folder / f"{OWNER_LOCK}.{os.getpid()}"
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.replace(partial, folder / OWNER_LOCK)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


@contextmanager
def metrics_folder(root: Path | None = None) -> Iterator[str]:
    """The folder a server's workers share their metrics through, removed when it stops
    (one a killed server could not remove goes with :func:`remove_stale_metrics_folders`)."""
    try:
        made = tempfile.TemporaryDirectory(prefix=METRICS_PREFIX, dir=root)
    except OSError as exc:  # "No usable temporary directory": no writable TMPDIR, /tmp...
        raise ConfigError(
            f"cannot make the folder where --workers share /metrics: {exc}",
            hint="set TMPDIR to a writable folder, or serve with --workers 1",
        ) from exc
    with made as shared:
        descriptor = _hold(Path(shared))
        try:
            yield shared
        finally:
            if descriptor is not None:
                os.close(descriptor)


def _abandoned(folder: Path) -> bool:
    """True for a metrics folder of this user whose owner lock nobody holds: its server
    is gone. A folder without the lock (another program's, an older version's) is kept."""
    try:
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            return False
        descriptor = os.open(folder / OWNER_LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its server is serving
        return False
    finally:
        os.close(descriptor)
    return True


def remove_stale_metrics_folders(root: Path | None = None) -> list[Path]:
    """Remove the metrics folders of servers killed with SIGKILL (in ``root``, default
    the temporary folder); returns them. A live server's folder is never touched."""
    removed = []
    for folder in sorted(Path(root or tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*")):
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d metrics folder(s) of servers that were killed", len(removed))
    return removed
