"""How certify talks to a gateway's URL, and says in words what went wrong on the way.

A refused port, a name that does not resolve or a server without TLS each get one line
naming the URL and what happened (:func:`harness.tls.failure`), with what to do; never
urllib3's "Max retries exceeded" text. :func:`harness.tls.reach` tells "does not speak
TLS" from "not trusted".
"""

from __future__ import annotations

from typing import Any

import requests

from harness.errors import ConfigError
from harness.tls import UNTRUSTED_HINT, failure, reach

TIMEOUT = 30.0
"""Seconds any request to the gateway may take."""
REACH_HINT = (
    "check --gateway: the base URL of a running mock gateway (bhxh-harness serve prints it), "
    "or leave it out to start one"
)


def answer_kind(response: requests.Response) -> str:
    """What came back, without dumping a page: its content type and, unless it is HTML,
    the start of its text."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    text = response.text[:200].strip()
    return kind if "html" in kind or not text else f"{kind}: {text}"


def send(
    session: requests.Session, method: str, url: str, path: str, **kwargs: Any
) -> requests.Response:
    """``method url+path``; a gateway that cannot be reached is a :class:`ConfigError`."""
    try:
        return session.request(method, url + path, timeout=TIMEOUT, **kwargs)
    except requests.exceptions.SSLError:
        reach(session, url, REACH_HINT)  # raises "does not speak TLS" or "not trusted"
        raise ConfigError(
            f"the gateway at {url}: its TLS certificate is not trusted", hint=UNTRUSTED_HINT
        ) from None
    except requests.RequestException as exc:
        raise ConfigError(
            f"the gateway at {url} does not answer: {failure(exc)}", hint=REACH_HINT
        ) from None


__all__ = ["REACH_HINT", "TIMEOUT", "answer_kind", "send"]
