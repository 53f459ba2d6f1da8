"""What a replay's transport went through: retries, dropped connections, time backing off.

A gateway that answers 503 or drops connections now and then is unavailable, not changed:
the replay counts what the reference client's retries hid (so a run that passed after a
minute of back-off says so), caps the total back-off, and stops at once when the gateway
announces a maintenance window (a long ``Retry-After``) instead of waiting it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import BaseAdapter

from harness.client import RETRYABLE_STATUS, retry_after
from harness.errors import GatewayUnavailable

LONG_RETRY_AFTER = 120.0
"""A ``Retry-After`` longer than this (seconds) announces maintenance, not a blip."""
MAX_BACKOFF = 300.0
"""The most seconds a whole replay may spend backing off before it gives up."""


def for_humans(seconds: float) -> str:
    """``3599`` -> ``~1 h``: how long a wait is, as a person says it."""
    if seconds >= 3000:
        return f"~{seconds / 3600:.0f} h"
    if seconds >= 90:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds:.0f} s"


def maintenance(
    url: str,
    response: requests.Response,
    longest: float = LONG_RETRY_AFTER,
    why: str = "try again later",
) -> GatewayUnavailable | None:
    """The error to stop with when ``response`` announces a maintenance window longer
    than ``longest`` seconds (a caller that can wait less says ``why`` it cannot)."""
    wait = retry_after(response)
    if response.status_code != 503 or wait is None or wait <= longest:
        return None
    return GatewayUnavailable(
        f"the gateway at {url} is in maintenance for {for_humans(wait)} "
        f"(503 with Retry-After: {wait:g}); {why}"
    )


@dataclass
class TransportStats:
    """Counts kept while replaying; ``sleep`` is the client's back-off, capped in total."""

    url: str
    max_backoff: float = MAX_BACKOFF
    retries: int = 0
    resets: int = 0
    refusals: int = 0  # answers 429/5xx the client retried or gave up on
    backoff: float = 0.0
    unavailable_backoff: float = 0.0
    """The part of ``backoff`` spent after a refusal (429/502/503/504) or a dropped
    connection: what ``max_backoff`` caps. A 500 is retried a bounded number of times per
    request and then stands as the answer, so its waits never stop the run."""
    wait: Callable[[float], None] = field(default=time.sleep, repr=False)
    unavailable: bool = field(default=True, repr=False)
    """Whether the last request was refused or dropped, or none was seen (its retry's wait
    counts towards the cap); False after a 500."""

    def sleep(self, seconds: float) -> None:
        counted = seconds if self.unavailable else 0.0
        if self.unavailable_backoff + counted > self.max_backoff:
            part = self.unavailable_backoff != self.backoff
            of_it = f" ({self.unavailable_backoff:.1f} s of it after refusals)" if part else ""
            raise GatewayUnavailable(
                f"the gateway at {self.url} kept refusing or dropping requests: "
                f"{self.summary()}{of_it}, and the next wait would pass the cap of "
                f"{self.max_backoff:g} s\nHint: try again when it is stable, or raise "
                "--max-backoff"
            )
        self.retries += 1
        self.backoff += seconds
        self.unavailable_backoff += counted
        self.wait(seconds)

    def observe(self, response: requests.Response) -> None:
        self.unavailable = response.status_code in RETRYABLE_STATUS
        if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
            self.refusals += 1
        stop = maintenance(self.url, response)
        if stop is not None:
            raise stop

    def summary(self) -> str:
        return (
            f"{self.retries} retries, {self.resets} connection resets, "
            f"{self.backoff:.1f} s backing off"
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "retries": self.retries,
            "connection_resets": self.resets,
            "refusals": self.refusals,
            "backoff_s": round(self.backoff, 2),
        }


def combined(parts: Iterable[TransportStats | None]) -> TransportStats | None:
    """One count of several replays' transport (the corpus's and each newer catalog's):
    the run's transport line says what every retry of the run hid, not the first part's."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    total = TransportStats(present[0].url, present[0].max_backoff)
    for part in present:
        total.retries += part.retries
        total.resets += part.resets
        total.refusals += part.refusals
        total.backoff += part.backoff
        total.unavailable_backoff += part.unavailable_backoff
    return total


class WrappingAdapter(BaseAdapter):
    """Sends through ``inner``, the adapter it replaced: subclasses add what they count or
    retry around :meth:`send`."""

    def __init__(self, inner: BaseAdapter) -> None:
        super().__init__()
        self.inner = inner

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        return self.inner.send(request, *args, **kwargs)

    def close(self) -> None:
        self.inner.close()


def wrapped(
    session: requests.Session, wrap: Callable[[BaseAdapter], BaseAdapter]
) -> requests.Session:
    """``session`` with every mounted adapter replaced by ``wrap(adapter)``."""
    adapters: Mapping[str, BaseAdapter] = dict(session.adapters)
    for prefix, adapter in adapters.items():
        session.mount(prefix, wrap(adapter))
    return session


class _Counting(WrappingAdapter):
    """Counts dropped connections and watches every answer."""

    def __init__(self, inner: BaseAdapter, stats: TransportStats) -> None:
        super().__init__(inner)
        self.stats = stats

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().send(request, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.stats.unavailable = True
            self.stats.resets += isinstance(exc, requests.ConnectionError)
            raise
        self.stats.observe(response)
        return response


def watched(session: requests.Session, stats: TransportStats) -> requests.Session:
    """``session`` with every mounted adapter counting into ``stats``."""
    return wrapped(session, lambda adapter: _Counting(adapter, stats))


__all__ = [
    "LONG_RETRY_AFTER",
    "MAX_BACKOFF",
    "TransportStats",
    "WrappingAdapter",
    "combined",
    "for_humans",
    "maintenance",
    "watched",
    "wrapped",
]
