"""How certify talks to a gateway's URL, says in words what went wrong on the way, and
what it checks of the I-VAN it acts as there before any case.

A refused port, a name that does not resolve or a server without TLS each get one line
naming the URL and what happened (:func:`harness.tls.failure`), with what to do; never
urllib3's "Max retries exceeded" text. :func:`harness.tls.reach` tells "does not speak
TLS" from "not trusted".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from harness.errors import ConfigError
from harness.gateway_url import dossier_probe, gateway_base_url
from harness.tls import UNTRUSTED_HINT, failure, reach

if TYPE_CHECKING:
    from harness.catalog import Catalog
    from harness.signing import TestPKI

TIMEOUT = 30.0
"""Seconds any request to the gateway may take."""
REACH_HINT = (
    "check --gateway: the base URL of a running mock gateway (bhxh-harness serve prints it), "
    "or leave it out to start one"
)


LOCAL = "leave --gateway out for the local gateway"
"""How certify gets its own gateway: it takes no 'local' value, unlike load and fuzz."""


def gateway_base(url: str) -> str:
    """``--gateway`` as a base URL, or why not in certify's words: the shared wording
    offers a 'local' value certify does not take (its own gateway is the option left out)."""
    text = url.strip()
    if not text:
        raise ConfigError("--gateway is empty", hint=f"give the gateway's base URL ({LOCAL})")
    scheme, sep, _ = text.partition("://")
    if not sep:
        local = text.lower() in ("local", "inproc")  # another command's word for its own
        hint = f"{LOCAL}: certify starts one" if local else f"did you mean http://{text}? ({LOCAL})"
        raise ConfigError(f"--gateway {url!r} is not a URL", hint=hint)
    if scheme.lower() not in ("http", "https"):
        raise ConfigError(
            f"--gateway {url!r} is not an http:// or https:// URL",
            hint=f"give the gateway's base URL, e.g. http://{text.partition('://')[2]} ({LOCAL})",
        )
    base, problem = gateway_base_url(url)  # an unclosed [ of an IPv6 host is a problem too
    if problem:
        raise ConfigError(problem)
    return base


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
        raise GatewayNotAnswering(
            f"the gateway at {url} does not answer: {failure(exc)}", hint=REACH_HINT
        ) from None


class GatewayNotAnswering(ConfigError):
    """The gateway cannot be reached: a usage error before the run (a wrong ``--gateway``),
    a run that cannot conclude once its cases began (:mod:`.runner` says which)."""


def ivan_probe_for(catalog: Catalog, pki: TestPKI, ivan: str, url: str | None) -> bytes | None:
    """Refuse an ``--ivan`` code no envelope can carry before anything starts (every dossier
    would be refused, and the I-VAN under test blamed); for a gateway ``url``, the dossier
    that tells whether the token is that I-VAN's (``CertGateway.check_ivan_token``)."""
    from harness.conformance import factory_for_ivan
    from harness.dossiers.factory import DossierFactory

    factory = factory_for_ivan(DossierFactory(catalog, pki), ivan, pki.trust_store())
    return dossier_probe(factory) if url is not None else None


__all__ = [
    "REACH_HINT",
    "TIMEOUT",
    "GatewayNotAnswering",
    "answer_kind",
    "gateway_base",
    "ivan_probe_for",
    "send",
]
