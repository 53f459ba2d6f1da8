"""The local gateway process of a load run: ``python -m harness.load._serve``.

Settings come as JSON in ``$BHXH_LOAD_GATEWAY`` (written by
:class:`harness.load.gateway.LocalGateway`). This module is the load suite's wiring of the
gateway, like ``harness.demo``; it is the only part of :mod:`harness.load` that imports
:mod:`mock_gateway`: in this child process, and for :func:`max_clock_speed`, the
gateway's own limit, which the parent checks before anything starts.

Its output is the report's ``logs/gateway.log``: what it serves with, uvicorn's start and
stop lines, and the gateway's warnings (not one line per request: that would cost the
server being measured). A wrong setting is one line and exit code 2, not a traceback.

The latency fault is a thin ASGI wrapper that delays every answer by a fixed number of
real seconds, because the gateway has no fault profile yet. When ``mock_gateway`` grows
one (DESIGN.md: admin fault profile), this wrapper should give way to it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
import sys
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

SPEC_ENV = "BHXH_LOAD_GATEWAY"
FAULT_ENV = "BHXH_LOAD_FAULT_LATENCY"
PARENT_ENV = "BHXH_LOAD_GATEWAY_PARENT"
"""The pid of the process whose uvicorn workers must not outlive it (it may be SIGKILLed)."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def max_clock_speed() -> float:
    """The fastest clock the gateway accepts (its own constant, so the two cannot drift)."""
    from mock_gateway.config import MAX_CLOCK_SPEED

    return MAX_CLOCK_SPEED


class LatencyFault:
    """Answers every HTTP request ``seconds`` later (a slow gateway, not a busy one)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.seconds > 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def app_factory() -> ASGIApp:
    """One uvicorn worker's app (several workers import it by name); the worker stops
    with the process that started it, which uvicorn does not see to if that is killed."""
    from harness.load.lifetime import die_with
    from mock_gateway.app import create_app
    from mock_gateway.config import GatewayConfig
    from mock_gateway.core import Gateway

    parent = int(os.environ.get(PARENT_ENV, "0") or 0)
    if parent and (follow := die_with(parent)) is not None:
        follow()
    app = create_app(Gateway(GatewayConfig.from_env()))
    return LatencyFault(app, float(os.environ.get(FAULT_ENV, "0") or 0))


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def _serve(spec: dict[str, Any]) -> None:
    """Check the settings as ``bhxh-harness serve`` does, then serve until stopped."""
    from mock_gateway.app import create_app
    from mock_gateway.core import Gateway
    from mock_gateway.server import build_config, preflight

    config = build_config(
        database_url=str(spec["database_url"]),
        clock_speed=float(spec["clock_speed"]),
        ivan_tokens={str(k): str(v) for k, v in spec["ivan_tokens"].items()},
    )
    preflight(config)
    fault = float(spec.get("fault_latency", 0.0))
    workers = int(spec.get("workers", 1))
    print(
        f"local gateway of a load run on 127.0.0.1:{spec['port']}: {workers} worker(s), "
        f"clock speed {config.clock_speed:g}, fault latency {fault:g} s, "
        f"database {config.database_url}",
        file=sys.stderr,
        flush=True,
    )
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": int(spec["port"]),
        "log_level": "info",  # start and stop lines; no access log (one line a request)
        "access_log": False,
        "timeout_keep_alive": 30,
        "loop": _fastest("uvloop", "asyncio"),
        "http": _fastest("httptools", "h11"),
    }
    if workers == 1:
        uvicorn.run(LatencyFault(create_app(Gateway(config)), fault), **options)
        return
    config.to_env()
    os.environ[FAULT_ENV] = str(fault)
    os.environ[PARENT_ENV] = str(os.getpid())
    uvicorn.run("harness.load._serve:app_factory", factory=True, workers=workers, **options)


def main() -> None:
    """The child process: serve, or say in one line why not (exit 2)."""
    from harness.errors import UsageError

    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, stream=sys.stderr)
    try:
        _serve(json.loads(os.environ[SPEC_ENV]))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
