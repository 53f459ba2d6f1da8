"""The gateway inside a test: a real core over a throw-away SQLite file, no server.

>>> import pytest
>>> from harness.signing import ensure_pki
>>> from mock_gateway.testing import Answer, InProcessGateway
>>> @pytest.fixture
... def core_gateway():  # not `gateway`: that name is the pytest plugin's served gateway
...     with InProcessGateway(pki=ensure_pki()) as gw:
...         yield gw
>>> def test_receipt(core_gateway, dossier_factory):  # dossier_factory: the plugin's
...     procedure = next(iter(dossier_factory.catalog.procedures))
...     answer = core_gateway.submit(dossier_factory.build(procedure, seed=1).envelope)
...     assert answer.status == 202, Answer.parse(answer).codes
...     core_gateway.advance(15 * 60)  # 02/TB-TS is now in IVAN01's feed
...     feed = core_gateway.request("GET", "/api/v1/messages")
...     assert b"02/TB-TS" in feed.body

The clock is frozen by default (``clock_speed=0``): simulated time moves only when the
test calls :meth:`InProcessGateway.advance`, so lifecycle tests are deterministic. No
background thread runs; :meth:`advance` issues what falls due synchronously, and
traffic rows are written in small batches: read them with ``gw.gateway.traffic_log()``.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import requests
from lxml import etree  # type: ignore[import-untyped, unused-ignore]

from harness.errors import ConfigError
from harness.signing import TestPKI
from harness.xmlsafe import parse_xml
from mock_gateway.clock import SimulatedClock
from mock_gateway.config import GatewayConfig
from mock_gateway.core import Gateway
from mock_gateway.exchange import GatewayRequest, GatewayResponse
from mock_gateway.transport import DEFAULT_BASE_URL, GatewayAdapter, answer_in_process, mount


@dataclass(frozen=True)
class Answer:
    """A parsed ``BHXH/XACNHAN_GDICH`` with the fields tests look at most.

    Not :class:`harness.client.Answer` (what a client keeps): a test wants the element
    tree, every ``codes`` entry in order, warnings too, and an unreadable body to raise."""

    root: etree._Element

    @classmethod
    def parse(cls, data: bytes | GatewayResponse) -> Answer:
        """Parse an answer body (hardened: answers are untrusted input for a client too)."""
        return cls(parse_xml(data if isinstance(data, bytes) else data.body))

    def text(self, path: str) -> str:
        """Text at ``path`` below ``XACNHAN_GDICH`` ('' when absent)."""
        return self.root.findtext(f"XACNHAN_GDICH/{path}") or ""

    @property
    def kind(self) -> str:
        return self.text("LOAI_TBAO")

    @property
    def ma_kqua(self) -> str:
        return self.text("TTGDICH/MA_KQUA")

    @property
    def ma_loi(self) -> str:
        return self.text("TTGDICH/MA_LOI")

    @property
    def ma_gdich(self) -> str:
        return self.text("TTGDICH/MA_GDICH")

    @property
    def so_hso(self) -> str:
        return self.text("TTGDICH/SO_HSO")

    def findings(self) -> list[dict[str, str]]:
        """Every DS_LOI/LOI as a dictionary of its child elements."""
        return [
            {child.tag: child.text or "" for child in loi}
            for loi in self.root.iterfind("XACNHAN_GDICH/TTGDICH/DS_LOI/LOI")
        ]

    @property
    def codes(self) -> list[str]:
        return [f["MA_LOI"] for f in self.findings()]


class InProcessGateway:
    """A context manager owning a :class:`Gateway` over a temporary SQLite database."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        pki: TestPKI | None = None,
        directory: Path | None = None,
        clock_speed: float = 0.0,
        start: datetime | None = None,
        **overrides: Any,
    ) -> None:
        self._config = config or GatewayConfig()
        self._pki = pki
        self._directory = directory
        self._own_directory = directory is None
        self._clock_speed = clock_speed
        self._start = start
        self._overrides = overrides
        self._gateway: Gateway | None = None

    def __enter__(self) -> InProcessGateway:
        folder = self._directory or Path(tempfile.mkdtemp(prefix="bhxh-gateway-"))
        self._directory = folder
        try:
            return self._started(folder)
        except BaseException:  # __exit__ will not run: the folder made here goes now
            self.__exit__()
            raise

    def _started(self, folder: Path) -> InProcessGateway:
        config = self._config.with_changes(
            database_url=f"sqlite:///{folder / 'gateway.sqlite3'}",
            clock_speed=self._clock_speed,
            **self._overrides,
        )
        if self._start is not None and self._start.tzinfo is None:
            raise ConfigError(  # a local time read as UTC would be 7 hours off in Hà Nội
                f"start={self._start.isoformat()} has no time zone",
                hint="pass an aware datetime, e.g. datetime(2026, 1, 5, 8, tzinfo=UTC) or "
                "tzinfo=ZoneInfo('Asia/Ho_Chi_Minh')",
            )
        clock = SimulatedClock(self._clock_speed, start=self._start)
        self._gateway = Gateway(config, pki=self._pki, clock=clock)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None
        if self._own_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("use InProcessGateway as a context manager")
        return self._gateway

    @property
    def database_path(self) -> Path:
        assert self._directory is not None
        return self._directory / "gateway.sqlite3"

    def token(self, ivan: str = "IVAN01") -> str:
        """The bearer token of ``ivan`` (``"admin"`` for the admin token)."""
        config = self.gateway.config
        if ivan == "admin":
            return config.admin_token
        if ivan not in config.ivan_tokens:
            raise ConfigError(
                f"this gateway has no I-VAN {ivan!r}",
                hint=f"known: {', '.join(sorted(config.ivan_tokens))}, or 'admin'; add one "
                "with InProcessGateway(ivan_tokens={...})",
            )
        return config.ivan_tokens[ivan]

    def request(
        self,
        method: str,
        path: str,
        *,
        ivan: str | None = "IVAN01",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> GatewayResponse:
        """One request as ``ivan`` (``"admin"`` for admin, None for no credential); a
        head or body over the server's caps is refused and logged as the server does."""
        all_headers = {} if ivan is None else {"Authorization": f"Bearer {self.token(ivan)}"}
        all_headers.update(headers or {})
        query = dict(query or {})
        request = GatewayRequest(
            method, path, all_headers, query, body, query_string=urlencode(query)
        )
        return answer_in_process(self.gateway, request)

    def submit(
        self, envelope: bytes, *, ivan: str = "IVAN01", message_id: str | None = None
    ) -> GatewayResponse:
        """POST a dossier; ``message_id`` defaults to a fresh UUID."""
        headers = {
            "Content-Type": "application/xml",
            "X-Message-Id": message_id or uuid.uuid4().hex,
        }
        return self.request("POST", "/api/v1/dossiers", ivan=ivan, body=envelope, headers=headers)

    def advance(self, seconds: float) -> int:
        """Fast-forward simulated time and issue what fell due; returns how many messages
        (:class:`ConfigError` for a negative, infinite or NaN ``seconds``). The plugin's
        fixtures return the new simulated now instead; ``gateway.clock.now()`` here."""
        return self.gateway.advance_clock(seconds)

    def session(
        self, base_url: str = DEFAULT_BASE_URL, ivan: str | None = "IVAN01"
    ) -> requests.Session:
        """A ``requests`` session wired to this gateway (authenticated as ``ivan``)."""
        session = requests.Session()
        mount(session, self.gateway, base_url)
        if ivan is not None:
            session.headers["Authorization"] = f"Bearer {self.token(ivan)}"
        return session

    def adapter(self, base_url: str = DEFAULT_BASE_URL) -> GatewayAdapter:
        return GatewayAdapter(self.gateway, base_url)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m mock_gateway.cli`` in a subprocess on a free port, for end-to-end tests.

    The child inherits the environment, so ``$BHXH_HARNESS_PKI`` decides which test PKI
    it trusts. ``kill()`` sends SIGKILL (crash tests); ``stop()`` shuts down cleanly. The
    store is the SQLite file ``database`` unless ``database_url`` names another (a
    PostgreSQL server, for benchmarks); the log goes beside ``database`` either way.
    """

    def __init__(
        self,
        database: Path,
        *,
        workers: int = 1,
        clock_speed: float = 0.0,
        extra: tuple[str, ...] = (),
        log: Path | None = None,
        database_url: str | None = None,
    ) -> None:
        self.database = database
        self.database_url = database_url or f"sqlite:///{database}"
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or database.with_suffix(".log")
        self.command = [
            sys.executable,
            "-m",
            "mock_gateway.cli",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--database-url",
            self.database_url,
            "--clock-speed",
            str(clock_speed),
            "--log-level",
            "warning",
            *extra,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start and wait until ``/healthz`` answers 200."""
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.log.read_text()}")
            try:
                if (
                    requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
                    and self.listening() >= self.workers
                ):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gateway did not start in {timeout}s:\n{self.log.read_text()}")

    def listening(self) -> int:
        """How many of the server's processes listen on its port.

        The first worker answers ``/healthz`` before the others are up, and connections
        opened then all go to it; :meth:`start` waits for every worker.
        """
        if self.process is None:
            return 0
        try:
            parent = psutil.Process(self.process.pid)
            members = [parent, *parent.children()] if self.workers == 1 else parent.children()
        except psutil.Error:
            return 0
        count = 0
        for member in members:
            try:
                sockets = member.net_connections("tcp")
            except psutil.AccessDenied:  # this system hides other processes' sockets
                return self.workers
            except psutil.Error:  # a worker that just exited
                continue
            count += any(
                c.status == psutil.CONN_LISTEN and bool(c.laddr) and c.laddr.port == self.port
                for c in sockets
            )
        return count

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in ``timeout`` seconds."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def kill(self) -> None:
        """SIGKILL the server (its workers die with it when it is the only process)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=20)
            self.process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
