"""Checks on a URL gateway before any dossier is replayed, each failing with what to do.

Without them a refused token records 177 AUTH-002 rejections as a baseline, a token of
another I-VAN turns every dossier into an ENV-010 "regression", a wrong admin token fails
only after the whole corpus, a frozen clock or a maintenance window waits for hours, and a
clock too slow for ``--poll-timeout``, or stopped at its limit, reports every lifecycle
message as missing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import BaseAdapter

from harness.client import RETRYABLE_STATUS
from harness.dossiers.corpus import CorpusEntry
from harness.errors import ConfigError
from harness.gateway_url import (
    CatalogEndpointFailed,
    answer_codes,
    check_second_ivan,
    check_token,
    gateway_base_url,
    ivan_probe,
    refuse_foreign_token,
    reported_clock_speed,
)
from harness.regression.replay import GatewayTarget
from harness.regression.transport import WrappingAdapter, maintenance, wrapped
from harness.served_versions import listed_catalogs
from harness.tls import reach

LIFECYCLE_SECONDS = 75 * 60.0
"""Simulated seconds from receipt to 03/TB-TS at the mock gateway (15 minutes to the
02/TB-TS hand-over, 60 more to the result): what a clock reported in /healthz must cover."""
POLL_SLACK_SECONDS = 10.0
"""Real seconds on top, for the feed's 2 s polling and the gateway's processor ticks."""
REDIAL_SECONDS = (0.5, 1.0)
"""The pauses before each new attempt at a pre-flight request whose connection dropped:
one transient reset must not read as a gateway that is down (exit 2), while a gateway
that is not running is still told within a couple of seconds."""


class _Redialling(WrappingAdapter):
    """Sends again after a pause when the connection drops or is refused (every pre-flight
    request is safe to repeat: the probe is refused before it is stored, the clock
    advanced by 0 s); a TLS failure is not transient and is not retried."""

    def __init__(self, inner: BaseAdapter, pauses: Sequence[float]) -> None:
        super().__init__(inner)
        self.pauses = tuple(pauses)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        for pause in self.pauses:
            try:
                return super().send(request, *args, **kwargs)
            except requests.exceptions.SSLError:
                raise
            except requests.ConnectionError:
                time.sleep(pause)
        return super().send(request, *args, **kwargs)


def redialling(
    session: requests.Session, pauses: Sequence[float] = REDIAL_SECONDS
) -> requests.Session:
    """``session`` with every mounted adapter trying a dropped connection again."""
    return wrapped(session, lambda adapter: _Redialling(adapter, pauses))


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


def _refuse_stopped_clock(url: str, health: requests.Response) -> None:
    """A clock stopped at its limit (``clock_stopped`` in /healthz) issues no lifecycle
    message and refuses every advance: the run could only end unconcluded, after a wait."""
    try:
        body = health.json() if health.status_code == 200 else None
    except ValueError:  # not JSON: a gateway that does not say
        return
    if not isinstance(body, dict) or body.get("clock_stopped") is not True:
        return
    limit = body.get("clock_limit")
    at = f" at {limit}" if isinstance(limit, str) and limit else ""
    raise ConfigError(
        f"the gateway at {url} reports its simulated clock stopped{at}, its limit "
        "(clock_stopped in /healthz): no 02/TB-TS or 03/TB-TS message would ever arrive, "
        "and --admin-token cannot advance it",
        hint=f"restart its clock with POST {url}/admin/reset (admin token; it also forgets "
        "every dossier the gateway holds), then run again",
    )


def served_versions(target: GatewayTarget) -> list[str] | None:
    """The catalog versions the gateway lists in ``/healthz`` (``catalogs``), as it orders
    them; None when it does not say (not JSON, not 200: :func:`check_gateway` judges that)."""
    with redialling(target.session()) as session:
        return listed_catalogs(reach(session, target.base_url))


TOKEN_REFUSED_HINT = "pass --token (or $BHXH_REGRESS_TOKEN) with a bearer token it issued"


def check_gateway(
    target: GatewayTarget,
    *,
    ivan: str,
    probe: bytes | None,
    ivan_hint: str,
    catalog_required: bool = True,
) -> None:
    """Reachable, not in maintenance, its clock not stopped at its limit, the I-VAN token
    accepted and ``ivan``'s, the admin token accepted when given, and a clock fast enough
    to bring the lifecycle messages within ``--poll-timeout`` (or an admin token to move it).
    Without ``catalog_required`` a catalog endpoint answering 500 is let through (the token
    is then checked on the feed): ``regress`` judges the rest of such a build."""
    url = target.base_url
    with redialling(target.session()) as session:  # out of reach: the user's setting, first
        health = reach(session, url)
        _refuse_maintenance(url, health)
        _refuse_stopped_clock(url, health)
        try:
            catalog = check_token(
                session,
                url,
                target.token,
                refused=f"the gateway at {url} refuses the I-VAN token",
                hint=TOKEN_REFUSED_HINT,
            )
        except CatalogEndpointFailed as broken:
            if catalog_required:
                raise
            catalog = _token_on_feed(session, url, target.token, broken)
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
        else:
            _refuse_slow_clock(url, reported_clock_speed(health), target.poll_timeout)


def check_neighbour(target: GatewayTarget, ivan: str, probe: bytes | None) -> None:
    """The second I-VAN of the isolation check (:func:`check_second_ivan`, beside the
    corpus's I-VAN ``ivan``); a catalog endpoint failing is judged with the rest."""
    if target.neighbour is None:
        return
    with redialling(target.session()) as session:
        check_second_ivan(
            session, target.base_url, target.neighbour, (ivan, target.token), probe,
            own_is="the I-VAN the corpus's dossiers name", catalog_required=False,
        )  # fmt: skip


def _token_on_feed(
    session: requests.Session, url: str, token: str, broken: CatalogEndpointFailed
) -> requests.Response:
    """The I-VAN token checked on the feed (``GET /api/v1/messages``, which moves nothing)
    when the catalog endpoint failed; a feed failing the same way is a build that cannot be
    replayed, told as the catalog's failure."""
    bearer = {"Authorization": f"Bearer {token}"}
    params = {"after": "0", "limit": "1"}
    feed = session.get(f"{url}/api/v1/messages", params=params, headers=bearer, timeout=10)
    if feed.status_code in (401, 403):
        raise ConfigError(
            f"the gateway at {url} refuses the I-VAN token ({feed.status_code} "
            f"{answer_codes(feed)})",
            hint=TOKEN_REFUSED_HINT,
        )
    if feed.status_code >= 500 and feed.status_code not in RETRYABLE_STATUS:
        raise broken
    return feed


def _refuse_slow_clock(url: str, speed: float | None, poll_timeout: float) -> None:
    """Without an admin token the messages come in the gateway's time: refuse a clock that
    cannot bring them within ``poll_timeout`` (they would all read as missing)."""
    if speed is None:
        return  # a gateway that does not say: its messages are awaited up to --poll-timeout
    if speed == 0:
        raise ConfigError(
            f"the gateway at {url} reports a frozen clock (clock_speed 0 in /healthz): "
            "no 02/TB-TS or 03/TB-TS message would ever arrive",
            hint="pass --admin-token so the harness fast-forwards its clock, or serve it "
            "with a running clock (--clock-speed)",
        )
    needed = LIFECYCLE_SECONDS / speed + POLL_SLACK_SECONDS
    if poll_timeout < needed:
        raise ConfigError(
            f"the gateway at {url} runs its clock at {speed:g} simulated seconds per second "
            f"(clock_speed in /healthz): a dossier's 03/TB-TS comes "
            f"{LIFECYCLE_SECONDS / 60:.0f} simulated minutes after receipt, about "
            f"{needed:.0f} s of waiting ({LIFECYCLE_SECONDS / speed:.0f} s at that speed, "
            f"plus {POLL_SLACK_SECONDS:g} s for the feed's polling and the gateway's ticks), "
            f"more than --poll-timeout {poll_timeout:g} s: the 02/TB-TS and 03/TB-TS "
            "messages would not come in time",
            hint=_slow_clock_hint(needed, poll_timeout),
        )


def _slow_clock_hint(needed: float, poll_timeout: float) -> str:
    """The three ways out: fast-forward, wait longer, or a faster clock (if one can do)."""
    hint = (
        "pass --admin-token so the harness fast-forwards its clock, or give "
        f"--poll-timeout {math.ceil(needed)} or more"
    )
    if poll_timeout > POLL_SLACK_SECONDS:
        speed = math.ceil(LIFECYCLE_SECONDS / (poll_timeout - POLL_SLACK_SECONDS))
        hint += f", or serve it with a faster clock (--clock-speed {speed} or more)"
    return hint


__all__ = [
    "LIFECYCLE_SECONDS",
    "base_url",
    "check_gateway",
    "check_neighbour",
    "probe_body",
    "served_versions",
]
