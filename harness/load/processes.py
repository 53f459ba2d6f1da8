"""Run locust headless as child processes: one process, or a master and N workers.

Locust runs in subprocesses, never in ours: it monkey-patches the standard library with
gevent at import, which a test runner or the CLI's own threads do not survive. Every
child is started here, logs to the report's ``logs/``, and is stopped here; the master's
shape ends the run at its duration, after a bounded grace for dossiers still in flight
(``--stop-timeout``, :attr:`LocustSettings.grace`), and a timeout (the duration, the grace
and a margin) stops anything that does not, so every run is bounded. Distributed mode
listens on 127.0.0.1 unless the caller expects workers from other machines
(``Master.bind``), which the README shows.

Every process the run depends on is watched while it runs (a local worker, and what the
caller passes as :class:`Watched`, e.g. the local gateway): one that dies mid-run stops
the run, which is then an error naming it, not a gateway that failed its levels.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.load.gateway import free_port, stop_process
from harness.load.lifetime import Watched, die_with_parent
from harness.load.settings import TOKENS_ENV, LocustSettings, format_tokens
from harness.paths import project_root

STATS_PREFIX = "locust"
PROGRESS_EVERY = 10.0
"""Seconds between two calls of ``run_locust``'s ``progress`` callback."""
START_MARGIN = 90.0
"""Seconds allowed on top of the duration for start-up (workers joining) and shutdown."""
POLL_EVERY = 0.5
"""Seconds between two looks at whether every process of the run is still alive."""
STOP_GRACE = 15.0
"""Seconds a locust master stopped mid-run gets to write its report before SIGTERM."""
SHAPE_STARTED = "shape-started"
"""The file the shape creates in the scratch folder (``--bhxh-pool-dir``) when its clock
starts, every generator ready: progress lines count the duration from it."""


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
                    f"--master-port {master.port} is in use; choose another or leave it at 0",
                    hint="choose another --master-port, or 0 for any free one (remote workers "
                    "need a fixed one)",
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
        "--stop-timeout",  # users in the middle of a dossier at the end get this long
        f"{settings.grace:g}",
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


def exit_status(code: int) -> str:
    """How a process ended, as a reader wants it: ``signal 9 (SIGKILL)`` or ``code 1``."""
    if code >= 0:
        return f"code {code}"
    try:
        return f"signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"signal {-code}"


def _lost(children: Sequence[Watched], elapsed: float, quit_after: float | None) -> list[str]:
    """Which of ``children`` have died, each said as "name (pid) exited, how, at when".
    A locust worker leaves on its own only once the shape is over (``quit_after`` seconds
    at the soonest: the master tells it to), and then with code 0; a process given
    ``quit_after`` None (the local gateway) never leaves on its own."""
    found = []
    for child in children:
        code = child.process.poll()
        if code is None:
            continue
        if quit_after is not None and code == 0 and elapsed >= quit_after:
            continue  # the master ended the run and told its workers to quit
        found.append(
            f"{child.name} (pid {child.process.pid}) exited, {exit_status(code)}, at "
            f"{elapsed:.0f} s; see {child.log}"
        )
    return found


def _watch(
    head: subprocess.Popen[bytes],
    workers: Sequence[Watched],
    watched: Sequence[Watched],
    timing: tuple[float, float, float],
    progress: Callable[[float], None] | None,
) -> list[str]:
    """Wait until the master ends or the timeout passes, reporting progress; returns what
    died meanwhile, empty if nothing did. ``timing``: (start, duration, timeout)."""
    started, duration, timeout = timing
    next_progress = started + PROGRESS_EVERY
    while (now := time.monotonic()) < started + timeout:
        if head.poll() is not None:
            return []
        elapsed = now - started
        if lost := _lost(workers, elapsed, duration) + _lost(watched, elapsed, None):
            return lost
        if progress is not None and now >= next_progress:
            progress(elapsed)
            next_progress += PROGRESS_EVERY
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=max(0.0, min(POLL_EVERY, started + timeout - now)))
    return []


def _stop_master(head: subprocess.Popen[bytes], grace: float) -> int | None:
    """Stop a master mid-run as Ctrl-C would, so it still writes its HTML report and the
    lifecycle file (after its users' stop ``grace``); SIGTERM and SIGKILL follow if not."""
    if head.poll() is None:
        head.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=STOP_GRACE + grace)
    return stop_process(head)


def _master_crash(head: subprocess.Popen[bytes], seconds: float, log: Path) -> str:
    """Why a master that ended by itself did not finish the run, or "" if it did: locust
    exits 0, or 1 when some request failed; a signal or another code is a crash."""
    if head.returncode in (0, 1):
        return ""
    return _lost([Watched("locust master", head, log)], seconds, None)[0]


def _let_workers_quit(workers: Sequence[Watched]) -> None:
    """Give each worker the time to quit as its master told it, then stop it."""
    for worker in workers:
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            stop_process(worker.process)


def _stopped_because(lost: Sequence[str]) -> str:
    """The error of a run stopped because a process it needed died."""
    return (
        "; ".join(lost) + ". The run was stopped there: its figures are no judgement of "
        "the gateway; run it again"
    )


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
    watch: Sequence[Watched] = (),
) -> LocustOutcome:
    """Run one load test to its end (or its timeout) and return how it ended; ``progress``
    is called with the seconds elapsed about every :data:`PROGRESS_EVERY` seconds. If a
    local worker or a ``watch``-ed process dies first, the run is stopped there and its
    outcome's ``error`` says which died, how and when."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(extra_env or {}), TOKENS_ENV: format_tokens(tokens)}
    distributed = bool(workers or master.remote_workers)
    port = (master.port or free_port()) if distributed else 0
    timeout = (
        settings.duration + settings.grace + START_MARGIN + (240 if master.remote_workers else 0)
    )
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
        workers_watched = [
            Watched(f"locust worker {i}", child, log_path)
            for i, (child, (log_path, _)) in enumerate(zip(children, commands, strict=True))
            if i
        ]
        if lost := _watch(
            head, workers_watched, watch, (started, settings.duration, timeout), progress
        ):
            code = _stop_master(head, settings.grace)
            return LocustOutcome(code, time.monotonic() - started, _stopped_because(lost))
        if head.poll() is None:
            code = stop_process(head)
            return LocustOutcome(
                code,
                time.monotonic() - started,
                f"locust did not stop within {timeout:.0f} s; see {master_log}",
            )
        seconds = time.monotonic() - started
        errors = [_master_crash(head, seconds, master_log)]
        if errors[0]:  # its workers were not told to quit; say which died with it
            errors += _lost(workers_watched, seconds, settings.duration)
        else:
            _let_workers_quit(workers_watched)
        errors += _lost(watch, seconds, None)
        if not (directory / f"{STATS_PREFIX}_stats.csv").is_file():
            errors.append(
                f"locust exited with code {head.returncode} and wrote no statistics:\n"
                f"{_tail(master_log)}"
            )
        return LocustOutcome(head.returncode, seconds, "\n".join(e for e in errors if e))
    finally:
        for index, child in enumerate(children):
            # a master stopped mid-run (SIGTERM ends its shape: see the locustfile) gets the
            # time to stop its users and write its statistics and the lifecycle file
            stop_process(child, STOP_GRACE + settings.grace if index == 0 else 10.0)


__all__ = [
    "SHAPE_STARTED",
    "STATS_PREFIX",
    "LocustOutcome",
    "Master",
    "Watched",
    "check_master_address",
    "exit_status",
    "locust_command",
    "master_args",
    "run_locust",
    "worker_args",
]
