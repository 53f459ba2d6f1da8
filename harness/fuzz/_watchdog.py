"""Run a call with a time limit, in one long-lived worker thread.

A property "never hangs beyond the timeout" must survive the hang it detects, so the call
runs on a daemon worker and the caller waits at most ``timeout`` seconds. The worker is
reused across calls because lxml keeps compiled schemas per thread (see
:class:`harness.catalog.DocumentValidator`): a thread per call would recompile every XSD
and Schematron each time. A worker that overran is abandoned (it is a daemon, so it
cannot keep the process alive) and the next call starts a fresh one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class CallTimedOut(Exception):
    """The call did not return within its time limit."""


@dataclass
class _Job:
    call: Callable[[], Any]
    done: threading.Event
    result: Any = None
    error: BaseException | None = None


class Watchdog:
    """Runs calls on a worker thread and gives up on them after a timeout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] | None = None

    def _queue(self) -> queue.SimpleQueue[_Job]:
        with self._lock:
            if self._jobs is None:
                jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
                threading.Thread(
                    target=_serve, args=(jobs,), name="fuzz-watchdog", daemon=True
                ).start()
                self._jobs = jobs
            return self._jobs

    def call(self, function: Callable[[], Any], timeout: float) -> Any:
        """``function()``'s result or exception; :class:`CallTimedOut` after ``timeout`` s."""
        job = _Job(function, threading.Event())
        jobs = self._queue()
        jobs.put(job)
        if not job.done.wait(timeout):
            with self._lock:
                if self._jobs is jobs:
                    self._jobs = None  # abandon the stuck worker; the next call starts one
            raise CallTimedOut(f"no answer within {timeout:g} s")
        if job.error is not None:
            raise job.error
        return job.result


def _serve(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        job = jobs.get()
        try:
            job.result = job.call()
        except BaseException as exc:  # handed to the caller, who decides
            job.error = exc
        finally:
            job.done.set()


__all__ = ["CallTimedOut", "Watchdog"]
