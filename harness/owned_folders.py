"""Temporary folders a process owns by a lock, and the sweep of those a killed owner left.

A load run's scratch folder and a multi-worker server's metrics folder live in the
temporary folder; a SIGKILL leaves them behind. Each holds an ``owner.lock`` its owner
keeps ``flock``-ed: the kernel drops the lock when the process dies, however it dies, so
an unlocked folder is abandoned. A lock beats a pid file: pids are reused, and containers
that share /tmp see different ones.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OWNER_LOCK = "owner.lock"
"""The file in each owned folder its owner holds ``flock``-ed while it lives."""


def _hold(folder: Path) -> int | None:
    """Lock :data:`OWNER_LOCK` in ``folder`` for this process; the descriptor to close, or
    None where the file system has no ``flock`` (the folder is then never swept). Locked
    under a private name, then renamed: a sweep never sees it present but unlocked."""
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
def holding(folder: Path, *, release: bool = False) -> Iterator[None]:
    """Own ``folder`` for the block: a sweep leaves it alone until the block ends.
    ``release``: remove the lock file as the block ends (a report folder whose files are
    then listed in a manifest), so only a killed owner leaves it behind."""
    descriptor = _hold(folder)
    try:
        yield
    finally:
        if descriptor is not None:
            if release:
                (folder / OWNER_LOCK).unlink(missing_ok=True)
            os.close(descriptor)


def abandoned(folder: Path) -> bool:
    """True for a folder of this user whose owner lock nobody holds: its owner is gone.
    One without the lock (another program's, an older version's) is kept."""
    try:
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            return False
        descriptor = os.open(folder / OWNER_LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its owner is alive
        return False
    finally:
        os.close(descriptor)
    return True


def remove_abandoned(prefix: str, root: Path | None = None) -> list[Path]:
    """Remove the folders named ``prefix*`` in ``root`` (default the temporary folder)
    whose owner died; returns those removed. A living owner's folder is never touched."""
    removed = []
    for folder in sorted(Path(root or tempfile.gettempdir()).glob(f"{prefix}*")):
        if abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


__all__ = ["OWNER_LOCK", "abandoned", "holding", "remove_abandoned"]
