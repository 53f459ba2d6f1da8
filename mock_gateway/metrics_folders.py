"""The folder where a multi-worker server's workers share ``/metrics``, and the sweep of
folders left by servers killed with SIGKILL.

Each folder holds an ``owner.lock`` its supervisor keeps ``flock``-ed while it serves
(:mod:`harness.owned_folders`), so a folder whose lock nobody holds is abandoned.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import ConfigError
from harness.owned_folders import holding, remove_abandoned

log = logging.getLogger(__name__)

METRICS_PREFIX = "bhxh-gateway-metrics-"


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
    with made as shared, holding(Path(shared)):
        yield shared


def remove_stale_metrics_folders(root: Path | None = None) -> list[Path]:
    """Remove the metrics folders of servers killed with SIGKILL (in ``root``, default
    the temporary folder); returns them. A live server's folder is never touched."""
    removed = remove_abandoned(METRICS_PREFIX, root)
    if removed:
        log.info("removed %d metrics folder(s) of servers that were killed", len(removed))
    return removed
