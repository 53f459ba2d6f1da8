"""Workers of one server share their metrics through a folder, so ``/metrics`` is the sum.

A scrape reaches whichever worker the kernel hands the connection to. Each worker writes
its :meth:`~mock_gateway.metrics.Metrics.snapshot` to its own file every second and
when it stops (write, then rename: a reader never sees half a file); the answering worker
adds every other file to its live numbers. A worker that died keeps its last file, so
its requests stay counted (up to the last second before it died). The supervisor creates
the folder and removes it when the server stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from mock_gateway.metrics import Metrics

PUBLISH_SECONDS = 1.0


class MetricsShare:
    """This worker's file in the shared folder, and a thread that keeps it current."""

    def __init__(self, directory: Path, metrics: Metrics) -> None:
        self.directory, self.metrics = directory, metrics
        # pid and a random part: a replacement worker may get a dead worker's pid
        self.path = directory / f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self) -> None:
        """Write this worker's numbers (atomically)."""
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.metrics.snapshot()), encoding="utf-8")
        os.replace(partial, self.path)

    def others(self) -> list[dict[str, Any]]:
        """The other workers' last published numbers (unreadable files are skipped)."""
        found = []
        for path in self.directory.glob("worker-*.json"):
            if path == self.path:
                continue
            try:
                found.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):  # gone or replaced meanwhile: next scrape
                continue
        return found

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="bhxh-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(OSError):  # the supervisor may have removed the folder
            self.publish()  # the final numbers of a worker that stops cleanly

    def _loop(self) -> None:
        while not self._stop.wait(PUBLISH_SECONDS):
            try:
                self.publish()
            except OSError:  # the folder is gone (the server is stopping): stop quietly
                return


__all__ = ["PUBLISH_SECONDS", "MetricsShare"]
