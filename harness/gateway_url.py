"""What a command needs to know of a gateway given by URL before it sends anything: its
base URL, and the clock speed its ``/healthz`` reports.

Shared by ``load`` and ``record``/``regress``: the suites append ``/api/v1/...``
themselves, so one rule for what a gateway URL may be keeps their refusals alike.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests


def gateway_base_url(text: str, local: str = "local") -> tuple[str, str]:
    """``(base URL, problem)``: the URL without a trailing slash, or why it is not one.

    A URL with a path would reach the wrong routes (404 on every request) and a trailing
    slash would double the slash. ``local`` is what the command calls its own gateway
    (``local`` for load, ``inproc`` for regress), named in the problem.
    """
    if "://" not in text:
        return (
            text,
            f"--gateway {text} is neither '{local}' nor a URL (did you mean http://{text}?)",
        )
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return text, f"--gateway {text}: use an http:// or https:// URL, or '{local}'"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return text, f"--gateway {text}: the port is not a number"
    if not parts.hostname:
        return text, f"--gateway {text} names no host"
    base = f"{scheme}://{parts.netloc}"
    if parts.path.strip("/") or parts.query or parts.fragment:
        return text, f"--gateway {text} has a path: use the gateway's base URL, e.g. {base}"
    return base, ""


def reported_clock_speed(health: requests.Response) -> float | None:
    """``clock_speed`` from a ``/healthz`` answer, if it is JSON and carries a number."""
    try:
        speed = health.json().get("clock_speed") if health.status_code == 200 else None
    except (ValueError, AttributeError):  # not JSON, or not an object
        return None
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return None
    return float(speed)


__all__ = ["gateway_base_url", "reported_clock_speed"]
