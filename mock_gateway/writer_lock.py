"""The ``<database>.writer-lock`` file beside a SQLite database: writers queue on it, and
the last process to stop using it removes it.

Writers take ``flock(LOCK_EX)`` on it (:meth:`mock_gateway.store.Store.write` says why).
Every process using the file also holds a POSIX shared lock (``lockf``) on it while any
of its stores is open, so a process that closes its last store can tell whether another
process still uses the file: only when none does is the file removed, under an exclusive
lock; a process that opened it meanwhile sees that the path now names another file and
opens that one. POSIX locks belong to a process and are dropped when *any* descriptor of
the file is closed, so a process opens the file once and shares it between its stores.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

_REGISTRY = threading.Lock()


class _Shared:
    """One process's descriptor of a lock file, shared by its stores."""

    def __init__(self, path: str, handle: IO[bytes]) -> None:
        self.path = path
        self.handle = handle
        self.users = 1
        self.lock = threading.Lock()  # flock does not exclude threads sharing a descriptor


_OPEN: dict[str, _Shared] = {}


def _forget_inherited() -> None:
    """In a forked child: its parent's descriptors share the parent's flocks, and POSIX
    locks are not inherited, so the child's stores open their own."""
    global _REGISTRY
    _REGISTRY = threading.Lock()
    _OPEN.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def still_named(path: str, handle: IO[bytes]) -> bool:
    """Whether ``path`` still names the file ``handle`` has open."""
    try:
        named, held = os.stat(path), os.fstat(handle.fileno())
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _open_in_use(path: str) -> IO[bytes] | None:
    """The lock file, open and marked in use (None where it cannot be created or locked:
    writers then rely on SQLite's busy handler alone)."""
    while True:
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - kept open for the store's lifetime
        except OSError:
            return None
        try:
            fcntl.lockf(handle, fcntl.LOCK_SH)  # waits while a closing process removes it
        except OSError:
            handle.close()
            return None
        if still_named(path, handle):
            return handle
        handle.close()  # removed by a process that stopped meanwhile: open the new one


def _remove_if_unused(shared: _Shared) -> None:
    """Remove the file unless another process uses it (that one removes it later)."""
    handle = shared.handle
    try:
        fcntl.lockf(handle, fcntl.LOCK_UN)
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if still_named(shared.path, handle):
            os.unlink(shared.path)
    except OSError:  # in use elsewhere, already gone, or a read-only folder: leave it
        pass
    finally:
        handle.close()


class WriterLock:
    """Cross-process writer queue on ``path``; :meth:`close` removes the file when no
    other process uses it."""

    def __init__(self, path: str) -> None:
        key = os.path.realpath(path)
        with _REGISTRY:
            shared = _OPEN.get(key)
            if shared is not None:
                shared.users += 1
            else:
                handle = _open_in_use(key)
                if handle is not None:
                    shared = _OPEN[key] = _Shared(key, handle)
        self._shared = shared

    @property
    def path(self) -> str | None:
        return self._shared.path if self._shared is not None else None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock (nothing to hold if the file could not be opened)."""
        shared = self._shared
        if shared is None:
            yield
            return
        with shared.lock:
            fcntl.flock(shared.handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(shared.handle, fcntl.LOCK_UN)

    def held_elsewhere(self) -> bool:
        """Whether another process holds the lock now; probes without waiting and holds
        nothing afterwards. A thread of this process holding it is not counted: waiting
        for it releases the GIL it needs, where looking again and again would take it."""
        shared = self._shared
        if shared is None or not shared.lock.acquire(blocking=False):
            return False
        try:
            fcntl.flock(shared.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:  # not for this probe to report: the write that follows meets it
            return False
        else:
            fcntl.flock(shared.handle, fcntl.LOCK_UN)
            return False
        finally:
            shared.lock.release()

    def close(self) -> None:
        shared, self._shared = self._shared, None
        if shared is None:
            return
        with _REGISTRY:
            shared.users -= 1
            if shared.users:
                return
            del _OPEN[shared.path]
            _remove_if_unused(shared)


__all__ = ["WriterLock", "still_named"]
