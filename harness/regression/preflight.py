"""Checks on a URL gateway before any dossier is replayed, each failing with what to do.

Without them a refused token records 177 AUTH-002 rejections as a baseline, a token of
another I-VAN turns every dossier into an ENV-010 "regression", a wrong admin token fails
only after the whole corpus, and a frozen clock or a maintenance window waits for hours.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests

from harness.dossiers.corpus import CorpusEntry
from harness.errors import ConfigError
from harness.gateway_url import (
    answer_codes,
    check_token,
    gateway_base_url,
    ivan_probe,
    refuse_foreign_token,
    reported_clock_speed,
)
from harness.regression.replay import GatewayTarget
from harness.regression.transport import maintenance
from harness.tls import reach


def base_url(gateway: str) -> str:
    """The gateway's base URL; a URL with a path, query or bad port is refused like `load`
    refuses it (the replay appends ``/api/v1/...`` itself)."""
    base, problem = gateway_base_url(gateway, local="inproc")
    if problem:
        raise ConfigError(problem)
    return base


def probe_body(corpus: Sequence[CorpusEntry]) -> bytes | None:
    """A valid dossier of the corpus, renamed to an unknown procedure (None: no such dossier)."""
    entry = next((e for e in corpus if e.procedure and not e.expected), None)
    return None if entry is None else ivan_probe(entry.body)


def _refuse_maintenance(url: str, response: requests.Response) -> None:
    stop = maintenance(url, response)
    if stop is not None:
        raise ConfigError(str(stop))


def check_gateway(target: GatewayTarget, *, ivan: str, probe: bytes | None, ivan_hint: str) -> None:
    """Reachable, not in maintenance, the I-VAN token accepted and ``ivan``'s, the admin
    token accepted when given, and a clock that moves (or an admin token to move it)."""
    url = target.base_url
    with target.session() as session:  # out of reach: the user's setting, said first
        health = reach(session, url)
        _refuse_maintenance(url, health)
        catalog = check_token(
            session,
            url,
            target.token,
            refused=f"the gateway at {url} refuses the I-VAN token",
            hint="pass --token (or $BHXH_REGRESS_TOKEN) with a bearer token it issued",
        )
        _refuse_maintenance(url, catalog)
        if probe is not None:
            refuse_foreign_token(session, url, target.token, ivan, probe, ivan_hint)
        if target.admin_token:
            admin = {"Authorization": f"Bearer {target.admin_token}"}
            advance = f"{url}/admin/clock/advance"
            moved = session.post(advance, params={"seconds": "0"}, headers=admin, timeout=30)
            if moved.status_code in (401, 403, 404):
                why = "has no" if moved.status_code == 404 else "refuses the admin token at"
                raise ConfigError(
                    f"the gateway at {url} {why} POST /admin/clock/advance "
                    f"({moved.status_code} {answer_codes(moved)})",
                    hint="pass --admin-token with the token it was started with, or leave "
                    "it out to wait for the messages in real time (--poll-timeout)",
                )
        elif reported_clock_speed(health) == 0:
            raise ConfigError(
                f"the gateway at {url} reports a frozen clock (clock_speed 0 in /healthz): "
                "no 02/TB-TS or 03/TB-TS message would ever arrive",
                hint="pass --admin-token so the harness fast-forwards its clock, or serve it "
                "with a running clock (--clock-speed)",
            )


__all__ = ["base_url", "check_gateway", "probe_body"]
