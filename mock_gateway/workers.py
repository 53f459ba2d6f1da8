"""Several gateway worker processes, each listening on its own ``SO_REUSEPORT`` socket.

uvicorn's ``--workers`` shares one listening socket, and the first worker to wake
accepts a whole burst of connections: in the gateway benchmark all 16 keep-alive clients
landed on one of two workers, which left a core idle and halved throughput. With one
socket per worker in a ``SO_REUSEPORT`` group, Linux spreads connections over the
workers by their addresses. Elsewhere (macOS spreads nothing, Windows has no such
option) :func:`mock_gateway.server.serve` keeps uvicorn's own supervisor.

Workers die with this process (``PR_SET_PDEATHSIG``), so a supervisor killed with
SIGKILL takes its workers along instead of leaving them serving on the port.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from harness.errors import ConfigError

log = logging.getLogger(__name__)

APP = "mock_gateway.faulty_app:app_factory"
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker that could not start serving
STARTUP_GRACE = 10.0
"""A worker that exits with an error sooner after its start failed to start: restarting
it would loop. One killed by a signal is restarted whenever it dies."""
_PR_SET_PDEATHSIG = 1


def supported() -> bool:
    """True where ``SO_REUSEPORT`` balances connections between sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening; uvicorn does that)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def check_port(host: str, port: int) -> None:
    """Bind once *without* ``SO_REUSEPORT``: a :class:`ConfigError` if anything holds the
    port, including another gateway whose workers would otherwise share it silently."""
    try:
        listening_socket(host, port, reuse_port=False).close()
    except OSError as exc:
        hint = "choose another --port" if exc.errno == errno.EADDRINUSE else None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}", hint=hint) from exc


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the supervisor dies; exit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux after all: nothing to ask for
        return
    if os.getppid() != parent:
        os._exit(1)


def _worker(host: str, port: int, options: dict[str, Any], parent: int) -> None:
    """One worker process: its own socket in the group, uvicorn serving the app on it."""
    _die_with_parent(parent)
    try:
        sock = listening_socket(host, port, reuse_port=True)
    except OSError as exc:
        print(f"worker cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


class Workers:
    """Starts ``count`` workers, restarts one that dies, stops them all on SIGINT/SIGTERM."""

    def __init__(self, count: int, host: str, port: int, options: dict[str, Any]) -> None:
        self.count = count
        self.host = host
        self.port = port
        self.options = options
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self.processes: list[BaseProcess] = []
        self._started: dict[int, float] = {}  # pid -> monotonic start time

    def run(self, grace: float = 20.0) -> None:
        """Serve until a signal asks to stop; a worker that cannot start is a ConfigError."""
        check_port(self.host, self.port)
        previous = {
            sig: signal.signal(sig, lambda *_: self._stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self.processes = [self._start() for _ in range(self.count)]
            while not self._stop.wait(0.5):
                self._replace_dead()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._stop_all(grace)

    def _start(self) -> BaseProcess:
        process = self._context.Process(
            target=_worker,
            args=(self.host, self.port, self.options, os.getpid()),
            name="bhxh-gateway-worker",
        )
        process.start()
        if process.pid is not None:
            self._started[process.pid] = time.monotonic()
        return process

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if process.is_alive() or self._stop.is_set():
                continue
            lived = time.monotonic() - self._started.pop(process.pid or 0, 0.0)
            code = process.exitcode or 0  # negative: killed by a signal, worth a restart
            if code == STARTUP_FAILURE or (code > 0 and lived < STARTUP_GRACE):
                self._stop.set()
                raise ConfigError(
                    f"a gateway worker could not start (exit code {code})",
                    hint="its error is in the log above; fix it and start again",
                )
            log.warning("worker %s exited (%s); starting another", process.pid, process.exitcode)
            self.processes[index] = self._start()

    def _stop_all(self, grace: float) -> None:
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes what is in flight
        deadline = time.monotonic() + grace
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
