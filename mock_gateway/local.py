"""Run a gateway on 127.0.0.1 in a background thread: a real HTTP server for one process.

The demo and the suites' ``--gateway local`` use it, so what they test crosses a real
socket and the real ASGI app, yet needs no second process to start or clean up.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from harness.errors import ConfigError
from mock_gateway.app import create_app
from mock_gateway.core import Gateway
from mock_gateway.http_head import CappedHeadProtocol
from mock_gateway.testing import free_port
from mock_gateway.workers import check_port


class LocalServer:
    """``with LocalServer(gateway) as server: server.url`` — uvicorn on a free port."""

    def __init__(
        self,
        gateway: Gateway,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        app: ASGIApp | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """``app`` replaces the plain app (e.g. one wrapped in fault injection); ``tls``
        (certificate, key) serves HTTPS, as a staging gateway would."""
        self.gateway = gateway
        self.host = host
        self.port = port or free_port(host)
        self.scheme = "https" if tls is not None else "http"
        certificate, key = tls if tls is not None else (None, None)
        config = uvicorn.Config(
            app if app is not None else create_app(gateway, close=False),
            host=host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http=CappedHeadProtocol,
            ssl_certfile=certificate,
            ssl_keyfile=key,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="local-gateway", daemon=True)
        self._failure: BaseException | None = None

    def _run(self) -> None:
        """uvicorn's loop; what stopped it is kept, to say why the server did not start."""
        try:
            self._server.run()
        except BaseException as exc:  # SystemExit too: uvicorn exits when it cannot bind
            self._failure = exc

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __enter__(self) -> LocalServer:
        check_port(self.host, self.port)  # a port in use is said as such, not as a failure
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the local gateway could not start on {self.url}{self._why()}")
            time.sleep(0.02)
        return self

    def _why(self) -> str:
        if self._thread.is_alive():
            return ": it did not answer within 15 s"
        if self._failure is None or isinstance(self._failure, SystemExit):
            return " (uvicorn logged why, above)"  # it logs, then exits
        return f": {self._failure}"

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
