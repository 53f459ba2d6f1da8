"""The local gateway process of a load run: ``python -m harness.load._serve``.

Settings come as JSON in ``$BHXH_LOAD_GATEWAY`` (written by
:class:`harness.load.gateway.LocalGateway`). This module is the load suite's wiring of the
gateway, like ``harness.demo``; it is the only part of :mod:`harness.load` that imports
:mod:`mock_gateway`, and only in this child process.

The latency fault is a thin ASGI wrapper that delays every answer by a fixed number of
real seconds, because the gateway has no fault profile yet. When ``mock_gateway`` grows
one (DESIGN.md: admin fault profile), this wrapper should give way to it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

SPEC_ENV = "BHXH_LOAD_GATEWAY"
FAULT_ENV = "BHXH_LOAD_FAULT_LATENCY"


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
    """One uvicorn worker's app (several workers import it by name)."""
    from mock_gateway.app import create_app
    from mock_gateway.config import GatewayConfig
    from mock_gateway.core import Gateway

    app = create_app(Gateway(GatewayConfig.from_env()))
    return LatencyFault(app, float(os.environ.get(FAULT_ENV, "0") or 0))


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) is not None else fallback


def main() -> None:
    from mock_gateway.app import create_app
    from mock_gateway.core import Gateway
    from mock_gateway.server import build_config, preflight

    spec: dict[str, Any] = json.loads(os.environ[SPEC_ENV])
    config = build_config(
        database_url=str(spec["database_url"]),
        clock_speed=float(spec["clock_speed"]),
        ivan_tokens={str(k): str(v) for k, v in spec["ivan_tokens"].items()},
    )
    preflight(config)
    fault = float(spec.get("fault_latency", 0.0))
    workers = int(spec.get("workers", 1))
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": int(spec["port"]),
        "log_level": "warning",
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
    uvicorn.run("harness.load._serve:app_factory", factory=True, workers=workers, **options)


if __name__ == "__main__":
    main()
