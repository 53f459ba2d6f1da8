"""Several workers, each on its own ``SO_REUSEPORT`` socket: connections spread over
them, and they go when their supervisor goes."""

from __future__ import annotations

import select
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest

from harness.errors import ConfigError
from harness.signing import TestPKI
from mock_gateway import workers
from mock_gateway.testing import ServerProcess, free_port

pytestmark = pytest.mark.skipif(not workers.supported(), reason="SO_REUSEPORT balancing is Linux")


def _workers(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    children = psutil.Process(server.process.pid).children()
    return [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]


def _burst(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened within microseconds, as a client's pool opens them."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
    for sock in sockets:
        select.select([], [sock], [], 10)
        sock.setblocking(True)
        sock.settimeout(30)
    return sockets


def test_keep_alive_connections_spread_over_both_workers(tmp_path: Path, pki: TestPKI) -> None:
    del pki
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2) as server:
        assert server.listening() == 2  # start() waited for both
        connections = _burst(server.port, 16)
        try:
            for connection in connections:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            for connection in connections:
                assert connection.recv(65536).startswith(b"HTTP/1.1 200")
            held = {
                w.pid: sum(c.status == psutil.CONN_ESTABLISHED for c in w.net_connections("tcp"))
                for w in _workers(server)
            }
        finally:
            for connection in connections:
                connection.close()
    assert len(held) == 2 and sum(held.values()) == 16
    # one shared socket handed all 16 to one worker; by address hash, all 16 on one
    # of two sockets has a probability of 2**-15
    assert min(held.values()) > 0, held


def test_workers_die_with_a_killed_supervisor(tmp_path: Path, pki: TestPKI) -> None:
    del pki
    server = ServerProcess(tmp_path / "gateway.sqlite3", workers=2).start()
    children = _workers(server)
    assert len(children) == 2
    server.kill()
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"workers outlived their supervisor: {alive}"
    workers.listening_socket("127.0.0.1", server.port, reuse_port=False).close()  # port free


def test_a_port_already_taken_is_a_clear_error() -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        supervisor = workers.Workers(2, "127.0.0.1", port, {})
        started = time.monotonic()
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1") as caught:
            supervisor.run()
    assert "another --port" in (caught.value.hint or "")
    assert supervisor.processes == [] and time.monotonic() - started < 5


def test_a_worker_that_cannot_start_stops_the_supervisor_instead_of_looping() -> None:
    supervisor = workers.Workers(2, "127.0.0.1", free_port(), {"no_such_option": 1})
    guard = threading.Timer(30, supervisor._stop.set)  # a looping supervisor fails, not hangs
    guard.start()
    try:
        with pytest.raises(ConfigError, match="could not start"):
            supervisor.run(grace=5)
    finally:
        guard.cancel()
    assert not any(p.is_alive() for p in supervisor.processes)


def test_a_killed_worker_is_replaced(tmp_path: Path, pki: TestPKI) -> None:
    del pki
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2) as server:
        first, second = _workers(server)
        first.kill()  # SIGKILL, seconds after start: a crash, not a failure to start
        first.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = {w.pid for w in _workers(server)}
            if len(pids) == 2 and first.pid not in pids and server.listening() == 2:
                break
            time.sleep(0.1)
        assert second.pid in pids and first.pid not in pids and len(pids) == 2
        assert server.listening() == 2
