"""Run locust headless as child processes: one process, or a master and N workers.

Locust runs in subprocesses, never in ours: it monkey-patches the standard library with
gevent at import, which a test runner or the CLI's own threads do not survive. Every
child is started here, logs to the report's ``logs/``, and is stopped here; the master's
shape ends the run at its duration, and a timeout (the duration plus a margin) stops
anything that does not, so every run is bounded. Distributed mode listens on 127.0.0.1
unless the caller expects workers from other machines (``Master.bind``), which the
README shows.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.load.gateway import free_port, stop_process
from harness.load.lifetime import die_with_parent
from harness.load.settings import TOKENS_ENV, LocustSettings, format_tokens
from harness.paths import project_root

STATS_PREFIX = "locust"
PROGRESS_EVERY = 10.0
"""Seconds between two calls of ``run_locust``'s ``progress`` callback."""
START_MARGIN = 90.0
"""Seconds allowed on top of the duration for start-up (workers joining) and shutdown."""


@dataclass(frozen=True)
class Master:
    """Where the master listens, and how many workers it waits for beyond its own."""

    bind: str = "127.0.0.1"
    port: int = 0  # 0: any free port (only sensible with no remote workers)
    remote_workers: int = 0


@dataclass(frozen=True)
class LocustOutcome:
    """How the locust processes ended; ``error`` is set when the run itself broke."""

    exit_code: int | None
    seconds: float
    error: str = ""


def check_master_address(master: Master) -> None:
    """Refuse a master port already in use, or a bind address this machine does not have,
    before anything starts (locust would fail 25 s later with a traceback)."""
    family = socket.AF_INET6 if ":" in master.bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as zmq does
        try:
            sock.bind((master.bind, master.port))
        except socket.gaierror:
            raise ConfigError(
                f"--master-bind {master.bind} is not an address or a host name this machine "
                "resolves",
                hint="use 127.0.0.1, 0.0.0.0 (every interface) or one of this machine's addresses",
            ) from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"--master-port {master.port} is in use; choose another or leave it at 0"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ConfigError(
                    f"--master-bind {master.bind} is not an address of this machine",
                    hint="use 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses",
                ) from None
            raise ConfigError(
                f"cannot listen on --master-bind {master.bind} --master-port {master.port}: "
                f"{exc.strerror}",
                hint="choose another port (or 0 for any free one) or another address",
            ) from None


def locust_command(locustfile: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(locustfile), *args]


def master_args(
    host: str,
    directory: Path,
    settings: LocustSettings,
    workers: int,
    port: int,
    master: Master = Master(),
) -> list[str]:
    """The headless (master or single) process's options: where to write, what to run."""
    args = [
        "--headless",
        "--host",
        host,
        "--csv",
        str(directory / STATS_PREFIX),
        "--csv-full-history",
        "--html",
        str(directory / f"{STATS_PREFIX}.html"),
        "--stop-timeout",
        "0",
        "--only-summary",
        "--loglevel",
        "WARNING",
        *settings.to_args(),
    ]
    expected = workers + master.remote_workers
    if expected:
        args += [
            "--master",
            "--master-bind-host",
            master.bind,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(expected),
            "--expect-workers-max-wait",
            "300" if master.remote_workers else "60",
        ]
    return args


def worker_args(port: int, master_host: str = "127.0.0.1") -> list[str]:
    return ["--worker", "--master-host", master_host, "--master-port", str(port)]


def _tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-size:]
    except OSError:
        return ""


def _wait(
    process: subprocess.Popen[bytes], deadline: float, progress: Callable[[float], None] | None
) -> int | None:
    """Wait for ``process`` until ``deadline`` (monotonic), reporting progress meanwhile."""
    started = time.monotonic()
    while (left := deadline - time.monotonic()) > 0:
        try:
            return process.wait(timeout=min(left, PROGRESS_EVERY))
        except subprocess.TimeoutExpired:
            if progress is not None:
                progress(time.monotonic() - started)
    return process.poll()


def run_locust(
    locustfile: Path,
    host: str,
    settings: LocustSettings,
    tokens: Mapping[str, str],
    workers: int,
    directory: Path,
    logs: Path,
    extra_env: Mapping[str, str] | None = None,
    master: Master = Master(),
    progress: Callable[[float], None] | None = None,
) -> LocustOutcome:
    """Run one load test to its end (or its timeout) and return how it ended; ``progress``
    is called with the seconds elapsed about every :data:`PROGRESS_EVERY` seconds."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {}), TOKENS_ENV: format_tokens(tokens)}
    distributed = bool(workers or master.remote_workers)
    port = (master.port or free_port()) if distributed else 0
    timeout = settings.duration + START_MARGIN + (240 if master.remote_workers else 0)
    children: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    master_log = logs / ("locust-master.log" if distributed else "locust.log")
    try:
        commands: Sequence[tuple[Path, list[str]]] = [
            (
                master_log,
                locust_command(
                    locustfile, *master_args(host, directory, settings, workers, port, master)
                ),
            )
        ] + [
            (logs / f"locust-worker-{i + 1}.log", locust_command(locustfile, *worker_args(port)))
            for i in range(workers)
        ]
        for log_path, command in commands:
            with log_path.open("wb") as log:
                children.append(
                    subprocess.Popen(
                        command,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        env=env,
                        cwd=project_root(),
                        preexec_fn=die_with_parent(),  # gone with us, even on SIGKILL
                    )
                )
        head = children[0]
        code = _wait(head, started + timeout, progress)
        if head.poll() is None:
            code = stop_process(head)
            return LocustOutcome(
                code,
                time.monotonic() - started,
                f"locust did not stop within {timeout:.0f} s; see {master_log}",
            )
        for worker in children[1:]:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stop_process(worker)
        error = ""
        if not (directory / f"{STATS_PREFIX}_stats.csv").is_file():
            error = f"locust exited with code {code} and wrote no statistics:\n{_tail(master_log)}"
        return LocustOutcome(code, time.monotonic() - started, error)
    finally:
        for child in children:
            stop_process(child)


__all__ = [
    "STATS_PREFIX",
    "LocustOutcome",
    "Master",
    "check_master_address",
    "locust_command",
    "master_args",
    "run_locust",
    "worker_args",
]
