"""What a command needs to know of a gateway given by URL before it sends anything: its
base URL, and the clock speed its ``/healthz`` reports.

Shared by ``load`` and ``record``/``regress``: the suites append ``/api/v1/...``
themselves, so one rule for what a gateway URL may be keeps their refusals alike.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from harness.errors import ConfigError


def gateway_base_url(text: str, local: str = "local") -> tuple[str, str]:
    """``(base URL, problem)``: the URL without a trailing slash, or why it is not one.

    A URL with a path would reach the wrong routes (404 on every request) and a trailing
    slash would double the slash. ``local`` is what the command calls its own gateway
    (``local`` for load, ``inproc`` for regress), named in the problem.
    """
    if "://" not in text:
        guess = f"'{local}'" if text.strip().lower() == local else f"http://{text}"
        return text, f"--gateway {text!r} is neither '{local}' nor a URL (did you mean {guess}?)"
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


def refuse_non_gateway(url: str, catalog: requests.Response) -> None:
    """Refuse what answers ``GET /api/v1/catalog`` but not as a BHXH gateway (a web server
    on the wrong port, a proxy's login page): runs against it only measured errors, and
    fuzz and regress reported them as a failing gateway. 401/403 are the caller's to
    explain (a token problem)."""
    if catalog.status_code in (401, 403):
        return
    kind = catalog.headers.get("Content-Type", "no content type").split(";")[0]
    if catalog.status_code == 200 and b"<DANH_MUC" in catalog.content:
        return
    raise ConfigError(
        f"{url} does not answer as a BHXH gateway: GET /api/v1/catalog answered "
        f"{catalog.status_code} {kind}",
        hint="check the URL's host and port (the gateway's base URL, e.g. http://127.0.0.1:8080)",
    )


__all__ = ["gateway_base_url", "refuse_non_gateway", "reported_clock_speed"]
