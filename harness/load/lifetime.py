"""Child processes that cannot outlive the run, and SIGTERM handled like Ctrl-C.

A load run starts a gateway and locust processes; a CI job that is cancelled (SIGTERM)
or killed (SIGKILL) must not leave them running and listening. SIGTERM is turned into
:class:`Interrupted` so the same ``finally`` blocks as Ctrl-C stop the children and
remove the scratch folder; on Linux every child also asks the kernel to send it SIGTERM
when its parent dies, which covers a SIGKILL no handler can see.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); ``directory`` holds what it
    wrote so far, if it got that far."""

    def __init__(self, signum: int = signal.SIGINT, directory: Path | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.directory = directory

    @property
    def exit_code(self) -> int:
        """128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signum


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when we die (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols include libc
    except OSError:
        return None
    parent = os.getpid()

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # we died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return setup


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Interrupted` (once: a second one during
    the clean-up is ignored, so the clean-up completes)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = ["Interrupted", "die_with_parent", "sigterm_interrupts"]
