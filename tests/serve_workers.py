"""Keep-alive connections to known workers of a ``serve --workers 2`` server.

A request's worker is found by its pid, from the sockets psutil lists, so a test says
exactly which worker did what (the fault figures no longer tell workers apart: they are
every worker's).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil

from mock_gateway.testing import ServerProcess

ADMIN = {"Authorization": "Bearer test-admin-token"}


class Worker:
    """A keep-alive connection to one worker of the server."""

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection

    def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, Any, bytes]:
        """``(status, headers, body)`` of one request on this worker's connection."""
        self.connection.request(method, path, body=body, headers=headers)
        answer = self.connection.getresponse()
        return answer.status, answer.headers, answer.read()

    def state(self) -> dict[str, Any]:
        status, _, body = self.call("GET", "/admin/faults", ADMIN)
        assert status == 200, body[:300]
        result: dict[str, Any] = json.loads(body)
        return result

    def log(self, after: int = 0) -> list[dict[str, Any]]:
        status, _, body = self.call("GET", f"/admin/faults/log?after={after}", ADMIN)
        assert status == 200, body[:300]
        return [json.loads(line) for line in body.splitlines()]


@contextmanager
def one_per_worker(server: ServerProcess) -> Iterator[list[Worker]]:
    """A connection to each of the two workers (new ones until both are reached)."""
    assert server.process is not None
    children = psutil.Process(server.process.pid).children()
    pids = [c.pid for c in children if "resource_tracker" not in " ".join(c.cmdline())]
    found: dict[int, Worker] = {}
    try:
        for _ in range(64):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.connect()
            assert connection.sock is not None
            pid = _worker_of(pids, server.port, connection.sock.getsockname()[1])
            if pid in found or pid is None:
                connection.close()
                continue
            found[pid] = Worker(connection)
            if len(found) == 2:
                yield list(found.values())
                return
        raise AssertionError("no connection reached the second worker")
    finally:
        for worker in found.values():
            worker.connection.close()


def _worker_of(pids: list[int], port: int, client_port: int) -> int | None:
    """The worker holding the server end of the connection from ``client_port``."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the worker accepts it a moment after connect()
        for pid in pids:
            for c in psutil.Process(pid).net_connections("tcp"):
                ends = (c.laddr, c.raddr)
                if c.raddr and ends[0].port == port and ends[1].port == client_port:
                    return pid
        time.sleep(0.02)
    return None


__all__ = ["Worker", "one_per_worker"]
