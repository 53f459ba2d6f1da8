"""Shared fixtures: one test PKI per session, in a temporary folder, and CI hypothesis profile."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.fuzz import register_profiles

register_profiles()  # ``ci`` (derandomised, no database, prints blobs) unless $HYPOTHESIS_PROFILE


def _bytecode_outside_the_tree() -> None:
    """Let the processes the suite starts keep compiled bytecode, in a folder outside the
    source tree, where ``PYTHONDONTWRITEBYTECODE`` forbids it: the suite starts hundreds
    of Python processes (xdist workers, servers, CLI runs, inner pytest runs), and without
    bytecode each compiled the harness anew and pytest rewrote every test module anew,
    a third of the CPU of tests/test_cli.py and the regression scenarios (74 -> 49 s)."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        os.environ.pop("PYTHONDONTWRITEBYTECODE")
        os.environ["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "bhxh-pycache")


_bytecode_outside_the_tree()  # before pytest-xdist starts its workers, who inherit it


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one process more than cores. A third of the suite's time is real-time
    waiting (servers starting, locust runs, timeouts), so two processes on two cores left
    about a fifth of the CPU idle: measured on this 2-core machine, 15:26 with 2, 11:47
    with 3, the same 2,941 tests passing."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh test PKI for the session, so tests never depend on a developer's cache."""
    path = tmp_path_factory.mktemp("pki")
    previous = os.environ.get("BHXH_HARNESS_PKI")
    os.environ["BHXH_HARNESS_PKI"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("BHXH_HARNESS_PKI", None)
    else:
        os.environ["BHXH_HARNESS_PKI"] = previous


@pytest.fixture(scope="session")
def pki(pki_dir: Path):  # type: ignore[no-untyped-def]
    from harness.signing import ensure_pki

    return ensure_pki(pki_dir)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL for the session (skips with the reason where it cannot start)."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def web_server() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a web server that is not the gateway (``python -m http.server``
    on a wrong port, the usual mistake): commands must refuse it before any run."""
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # not in the CLI output under test
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    """Every test leaves SIGINT and SIGTERM as it found them: the CLI installs its own, and
    ignores both while it writes an interrupted report, and a later test's subprocess
    would inherit an ignored Ctrl-C."""
    saved = {stop: signal.getsignal(stop) for stop in (signal.SIGINT, signal.SIGTERM)}
    yield
    for stop, handler in saved.items():
        signal.signal(stop, handler)
