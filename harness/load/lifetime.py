"""Child processes that cannot outlive the run, and SIGTERM handled like Ctrl-C.

A load run starts a gateway and locust processes; a CI job that is cancelled (SIGTERM)
or killed (SIGKILL) must not leave them running and listening. SIGTERM is turned into
:class:`Interrupted` so the same ``finally`` blocks as Ctrl-C stop the children and
remove the scratch folder; on Linux every child also asks the kernel to send it SIGTERM
when its parent dies, which covers a SIGKILL no handler can see.

A SIGKILL does leave the run's scratch folder (the pools and the local gateway's SQLite
store, which grows with the run): each holds an ``owner.lock`` its run keeps ``flock``-ed,
which the kernel releases however the run dies, and the next run removes every scratch
folder of this user whose lock nobody holds (:func:`remove_stale_scratch`).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from harness.owned_folders import holding, remove_abandoned

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SCRATCH_PREFIX = "bhxh-load-"


@dataclass(frozen=True)
class Watched:
    """A child the run cannot go on without (a locust process, the local gateway): its
    name in messages, and its log; its death mid-run stops the run as an error."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); ``directory`` holds what it
    wrote so far, if it got that far, and ``figures`` are the terminal lines of what ran
    before the stop (labelled partial), for the CLI to print."""

    def __init__(
        self,
        signum: int = signal.SIGINT,
        directory: Path | None = None,
        figures: list[str] | None = None,
    ) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.directory = directory
        self.figures = figures or []

    @property
    def exit_code(self) -> int:
        """128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + self.signum


def die_with(parent: int) -> Callable[[], None] | None:
    """A function that makes the calling process get SIGTERM when ``parent`` dies (Linux;
    it must be the caller's parent), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols include libc
    except OSError:
        return None

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # it died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return setup


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when we die (Linux), else None."""
    return die_with(os.getpid())


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


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """The run's scratch folder, removed when the block ends; one a SIGKILL left behind
    goes with the next run's :func:`remove_stale_scratch`."""
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as made, holding(Path(made)):
        yield Path(made)


def remove_stale_scratch(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders of load runs that were killed (in ``root``, default the
    temporary folder); returns them. A running run's folder is never touched."""
    return remove_abandoned(SCRATCH_PREFIX, root)


__all__ = [
    "Interrupted",
    "Watched",
    "die_with",
    "die_with_parent",
    "remove_stale_scratch",
    "scratch_folder",
    "sigterm_interrupts",
]
