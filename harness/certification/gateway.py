"""The gateway a certification run drives: started here on 127.0.0.1, or any URL.

The suite only talks HTTP to it (the I-VAN's credential for read-only probes, the admin
credential for the simulated clock, the traffic log and the fault plan), so the same run
works against the bundled mock and against a gateway started elsewhere with faults
(``mock_gateway.faulty_app:app_factory``). Probes carry an ``X-Message-Id`` starting with
:data:`PROBE_PREFIX`, which is how the suite leaves its own requests out of the evidence.

This module, like :mod:`harness.demo`, wires the mock gateway in (ARCHITECTURE.md).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from harness.certification.connection import REACH_HINT, answer_kind, send
from harness.certification.records import (  # the value types, re-exported from here too
    DossierStatus,
    FeedEntry,
    TrafficRow,
    parse_time,
)
from harness.client import parse_answer
from harness.errors import ConfigError
from harness.gateway_url import refuse_foreign_token
from harness.identities import (
    ADMIN_TOKEN,
    DEFAULT_IVAN_CODE,
    DEFAULT_IVAN_NAME,
    ivan_name,
    token_of,
)
from harness.json_lines import split_json_lines
from harness.served_versions import listed_catalogs
from harness.signing import TestPKI
from harness.tls import Verify, gateway_session

PROBE_PREFIX = "cert-probe-"
ADMIN_PREFIX = "cert-admin-"
"""State-changing admin requests carry ``cert-admin-<run tag>-<n>`` (see window.py)."""
DEFAULT_IDENTITY = (DEFAULT_IVAN_CODE, DEFAULT_IVAN_NAME, token_of(DEFAULT_IVAN_CODE))
"""The I-VAN a certification acts as by default: code, name, token."""
DEFAULT_ADMIN_TOKEN = ADMIN_TOKEN


class FaultsUnavailable(ConfigError):
    """The gateway has no ``/admin/faults`` (not started with fault injection)."""


class LogCapture(logging.Handler):
    """The local gateway's log records, kept as lines so a failure can quote them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _reason(response: requests.Response) -> str:
    """What a refusal says, from its signed XACNHAN_GDICH: each MA_LOI with its English
    text and detail (the detail is where "count must be a whole number" lives)."""
    reasons = [
        f"{f.code}: {f.message_en}" + (f" ({f.context['detail']})" if "detail" in f.context else "")
        for f in parse_answer(response.status_code, response.content).findings
    ]
    return "; ".join(reasons) or answer_kind(response)


class CertGateway:
    """HTTP access to the gateway under the suite: clock, traffic, faults, probes."""

    def __init__(
        self,
        url: str,
        *,
        ivan: tuple[str, str, str] = DEFAULT_IDENTITY,
        admin_token: str = DEFAULT_ADMIN_TOKEN,
        logs: LogCapture | None = None,
        local: bool = False,
        verify_tls: Verify = True,
        tag: str = "run",
        ivan_probe: bytes | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"gateway URL {url!r} must start with http:// or https://")
        self.url = url.rstrip("/")
        self.ivan, self.ivan_name, self.token = ivan
        self.local = local
        self.logs = logs
        self._admin = {"Authorization": f"Bearer {admin_token}"}
        self._session = gateway_session(verify_tls)
        self._probes = itertools.count(1)
        self.tag = tag
        self._writes = itertools.count(1)
        self.ivan_probe = ivan_probe
        """A dossier naming the I-VAN, never stored (:func:`harness.gateway_url.ivan_probe`):
        with it, :meth:`check_ivan_token` also refuses another I-VAN's token."""

    def _write(self, label: str = "") -> dict[str, str]:
        """Admin headers for a request that changes the gateway, tagged with this run."""
        label = label or str(next(self._writes))
        return {**self._admin, "X-Message-Id": f"{ADMIN_PREFIX}{self.tag}-{label}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = send(self._session, method, self.url, path, **kwargs)
        if response.status_code == 404 and path.startswith("/admin/faults"):
            raise FaultsUnavailable(
                f"the gateway at {self.url} has no /admin/faults",
                hint="serve it with mock_gateway.faulty_app:app_factory",
            )
        if response.status_code in (401, 403) and path.startswith("/admin"):
            raise ConfigError(
                f"the gateway at {self.url} refuses the admin credential "
                f"({response.status_code} {_reason(response)})",
                hint="pass --admin-token with the token the gateway was started with",
            )
        if response.status_code >= 400 and path.startswith("/admin"):
            raise ConfigError(
                f"{method} {path} answered {response.status_code}: {_reason(response)}"
            )
        return response

    def check_is_gateway(self) -> None:
        """Refuse a URL where something else answers (a web server, a proxy's login page)
        before any case: its ``/healthz`` must be the gateway's JSON with its clock."""
        health = self._call("GET", "/healthz")
        try:
            clock = health.json().get("simulated_time") if health.status_code == 200 else None
        except (ValueError, AttributeError):  # not JSON, or not an object
            clock = None
        if not isinstance(clock, str):
            raise ConfigError(
                f"the gateway at {self.url} does not answer as a BHXH mock gateway: "
                f"GET /healthz answered {health.status_code} {_reason(health)}",
                hint=REACH_HINT,
            )

    def served_catalogs(self) -> list[str] | None:
        """The catalog versions its ``/healthz`` lists (None when it does not say)."""
        return listed_catalogs(self._call("GET", "/healthz"))

    def now(self) -> datetime:
        """The gateway's simulated now."""
        return parse_time(self._call("GET", "/healthz").json()["simulated_time"])

    def worker_count(self) -> int:
        """How many worker processes serve the gateway, as its ``/healthz`` says (1 when it
        does not say: a gateway that is not ours runs its own way)."""
        workers = self._call("GET", "/healthz").json().get("workers", 1)
        return workers if isinstance(workers, int) and workers > 0 else 1

    def advance(self, seconds: float) -> datetime:
        """Fast-forward the simulated clock (messages falling due are issued on the way)."""
        path = f"/admin/clock/advance?seconds={seconds}"
        answer = self._call("POST", path, headers=self._write())
        return parse_time(answer.json()["now"])

    def traffic_lines(self, after: int = 0, limit: int | None = None) -> list[str]:
        """The traffic log after row ``after`` as NDJSON lines (bodies in base64); with
        ``limit``, at most that many rows."""
        lines: list[str] = []
        page_size = min(limit or 10000, 10000)
        while True:
            path = f"/admin/traffic?after={after}&limit={page_size}"
            answer = self._call("GET", path, headers=self._admin)
            page = split_json_lines(answer.text)
            lines += page
            cut = answer.headers.get("X-Traffic-Truncated") == "true"  # byte budget
            if limit is not None and len(lines) >= limit:
                return lines[:limit]
            if not page or (len(page) < page_size and not cut):
                return lines
            after = int(json.loads(page[-1])["id"])

    def traffic(self, after: int = 0) -> list[TrafficRow]:
        return [TrafficRow.from_json(json.loads(line)) for line in self.traffic_lines(after)]

    def reset(self) -> None:
        """Forget every dossier, message and traffic row (admin ``/admin/reset``)."""
        self._call("POST", "/admin/reset", headers=self._write())

    def set_faults(self, profiles: list[dict[str, Any]], seed: int) -> None:
        body = {"profiles": profiles, "seed": seed}
        self._call("PUT", "/admin/faults", json=body, headers=self._write())

    def clear_faults(self, *, last: bool = False) -> None:
        """Clear the fault plan; ``last`` marks the run's final change (window.py)."""
        self._call("DELETE", "/admin/faults", headers=self._write("end" if last else ""))

    def check_ivan_token(self) -> None:
        """Refuse a run whose I-VAN credential the gateway refuses, or (with a probe) that is
        another I-VAN's, before any case: every submission would get 401 or 403 ENV-010, and
        every case would blame the I-VAN under test."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-Message-Id": f"{PROBE_PREFIX}{self.tag}-credential",
        }
        response = self._call("GET", f"/api/v1/dossiers/{PROBE_PREFIX}credential", headers=headers)
        if response.status_code in (401, 403):
            raise ConfigError(
                f"the gateway at {self.url} refuses the I-VAN credential of {self.ivan} "
                f"({response.status_code} {_reason(response)})",
                hint="pass --ivan-token with the bearer token the gateway gave this I-VAN "
                "(and --ivan with its code if it is not IVAN01)",
            )
        if self.ivan_probe is not None:  # before the run's start mark: not in its evidence
            hint = f"pass --ivan with the token's I-VAN code, or --ivan-token with {self.ivan}'s"
            refuse_foreign_token(
                self._session, self.url, self.token, self.ivan, self.ivan_probe, hint
            )

    def fault_events(self, after: int = 0) -> list[dict[str, Any]]:
        text = self._call("GET", f"/admin/faults/log?after={after}", headers=self._admin).text
        return [json.loads(line) for line in split_json_lines(text)]

    def probe(self, ma_gdich: str) -> DossierStatus | None:
        """The dossier as the I-VAN may see it (None if the gateway does not know it)."""
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-Message-Id": f"{PROBE_PREFIX}{next(self._probes)}",
        }
        response = self._call("GET", f"/api/v1/dossiers/{ma_gdich}", headers=headers)
        if response.status_code != 200:
            return None
        return DossierStatus.from_answer(ma_gdich, response.content)

    def submit_as(self, ivan: str, envelope: bytes) -> int:
        """Submit as I-VAN ``ivan`` (its well-known token), tagged as the suite's: another
        I-VAN's dossier, so a run sees an I-VAN touching what is not its own."""
        message_id = f"{PROBE_PREFIX}{self.tag}-{ivan}-{next(self._probes)}"
        headers = {"Authorization": f"Bearer {token_of(ivan)}", "X-Message-Id": message_id}
        headers["Content-Type"] = "application/xml"
        return self._call("POST", "/api/v1/dossiers", data=envelope, headers=headers).status_code

    def close(self) -> None:
        self._session.close()


@contextmanager
def local_gateway(
    catalog_version: str | None, pki: TestPKI, directory: Path, tag: str = "run"
) -> Iterator[CertGateway]:
    """The mock gateway with fault injection on 127.0.0.1, frozen simulated clock; it
    serves ``catalog_version``, or every version on disk for None (as ``serve`` does)."""
    from mock_gateway.config import GatewayConfig
    from mock_gateway.core import Gateway
    from mock_gateway.faulty_app import FaultyGateway, create_faulty_app
    from mock_gateway.local import LocalServer

    directory.mkdir(parents=True, exist_ok=True)
    config = GatewayConfig(
        database_url=f"sqlite:///{directory / 'gateway.sqlite3'}",
        catalog_versions=() if catalog_version is None else (catalog_version,),
        clock_speed=0.0,
        pki_directory=str(pki.directory),
        sqlite_synchronous="NORMAL",  # the suite's own throw-away gateway
    )
    ivan = next(iter(config.ivan_tokens))
    capture = LogCapture()
    logger = logging.getLogger("mock_gateway")
    logger.addHandler(capture)
    gateway = Gateway(config, pki=pki)
    try:
        app = create_faulty_app(FaultyGateway(gateway), close=False, threads=4)
        with LocalServer(gateway, app=app) as server:
            handle = CertGateway(
                server.url,
                ivan=(ivan, ivan_name(ivan), config.ivan_tokens[ivan]),
                admin_token=config.admin_token,
                logs=capture,
                local=True,
                tag=tag,
            )
            try:
                yield handle
            finally:
                handle.close()
    finally:
        gateway.close()
        logger.removeHandler(capture)


__all__ = [
    "ADMIN_PREFIX",
    "PROBE_PREFIX",
    "CertGateway",
    "DossierStatus",
    "FaultsUnavailable",
    "FeedEntry",
    "LogCapture",
    "TrafficRow",
    "local_gateway",
    "parse_time",
]
