"""What a command needs to know of a gateway given by URL before it sends anything: its
base URL, and the clock speed its ``/healthz`` reports.

Shared by ``load`` and ``record``/``regress``: the suites append ``/api/v1/...``
themselves, so one rule for what a gateway URL may be keeps their refusals alike.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

import requests

from harness.client import RETRYABLE_STATUS, parse_answer
from harness.errors import ConfigError, UsageError
from harness.tls import failure

if TYPE_CHECKING:
    from harness.dossiers.factory import DossierFactory


def gateway_base_url(text: str, local: str = "local") -> tuple[str, str]:
    """``(base URL, problem)``: the URL without a trailing slash, or why it is not one.

    A URL with a path would reach the wrong routes (404 on every request) and a trailing
    slash would double the slash. ``local`` is what the command calls its own gateway
    (``local`` for load, ``inproc`` for regress), named in the problem.
    """
    if not text.strip():
        return text, f"--gateway is empty: give '{local}' or the gateway's base URL"
    if "://" not in text:
        guess = f"'{local}'" if text.strip().lower() == local else f"http://{text}"
        return text, f"--gateway {text!r} is neither '{local}' nor a URL (did you mean {guess}?)"
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed IPv6 '[', say
        return text, f"--gateway {text}: not a valid URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return text, f"--gateway {text}: use an http:// or https:// URL, or '{local}'"
    port = _port_problem(parts)
    if port:
        return text, f"--gateway {text}: {port}"
    if not parts.hostname:
        return text, f"--gateway {text} names no host"
    base = f"{scheme}://{parts.netloc}"
    extra = [
        name
        for name, value in (
            ("a path", parts.path.strip("/")),
            ("a query", parts.query),
            ("a fragment", parts.fragment),
        )
        if value
    ]
    if extra:
        said = " and ".join(extra)
        return text, f"--gateway {text} has {said}: use the gateway's base URL, e.g. {base}"
    return base, ""


def _port_problem(parts: SplitResult) -> str:
    """Why the URL's port can be no TCP port ("" when it can, or none is given): a number
    out of range is told as such, not as "not a number" (``urlsplit`` raises for both)."""
    try:
        port = parts.port
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition("]")[2].rpartition(":")[2]
        return PORT_RANGE if given.isdigit() else f"the port {given!r} is not a number"
    return PORT_RANGE if port == 0 else ""


PORT_RANGE = "port out of range (1-65535)"


def reported_clock_speed(health: requests.Response) -> float | None:
    """``clock_speed`` from a ``/healthz`` answer, if it is JSON and carries a number."""
    try:
        speed = health.json().get("clock_speed") if health.status_code == 200 else None
    except (ValueError, AttributeError):  # not JSON, or not an object
        return None
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return None
    return float(speed)


def answer_codes(response: requests.Response) -> str:
    """The BHXH error codes an answer carries, for a message ("no code" for none)."""
    return " ".join(parse_answer(response.status_code, response.content).codes) or "no code"


class CatalogEndpointFailed(ConfigError):
    """Something answers at the URL, but ``GET /api/v1/catalog`` failed with a server
    error (500, no BHXH code): the URL is right and the endpoint broken, which a regression
    of that build can still judge (without its served catalogs) where other suites cannot."""


def refuse_non_gateway(url: str, catalog: requests.Response) -> None:
    """Refuse what answers ``GET /api/v1/catalog`` but not as a BHXH gateway (a web server
    on the wrong port, a proxy's login page): runs against it only measured errors, and
    fuzz and regress reported them as a failing gateway. An answer carrying a BHXH error
    code is the gateway's (a token refused, a 503 burst, a maintenance window): the
    caller explains those. A server error is :class:`CatalogEndpointFailed`."""
    if catalog.status_code == 200 and b"<DANH_MUC" in catalog.content:
        return
    if (
        catalog.headers.get("X-BHXH-Ma-Loi")
        or parse_answer(catalog.status_code, catalog.content).codes
    ):
        return
    if catalog.status_code >= 500 and catalog.status_code not in RETRYABLE_STATUS:
        raise CatalogEndpointFailed(  # 502/503/504 with no code: a proxy with no gateway
            f"the gateway at {url} answers, but its catalog endpoint failed: GET "
            f"/api/v1/catalog answered {catalog.status_code} {catalog.reason or ''}".rstrip()
            + " (no BHXH error code)",
            hint="the URL is right; look in the gateway's log (or its proxy's) for why that "
            "request fails, and fix or redeploy the build",
        )
    kind = catalog.headers.get("Content-Type", "no content type").split(";")[0]
    raise ConfigError(
        f"{url} does not answer as a BHXH gateway: GET /api/v1/catalog answered "
        f"{catalog.status_code} {kind}",
        hint="check the URL's host and port (the gateway's base URL, e.g. http://127.0.0.1:8080)",
    )


def check_token(
    session: requests.Session, url: str, token: str | None, *, refused: str, hint: str
) -> requests.Response:
    """``GET /api/v1/catalog`` with ``token`` (None: the session carries one): refuse a
    server that is not a BHXH gateway, and a token it refuses (401/403: ``refused`` says
    whose, ``hint`` what to pass). The answer goes back for the caller's own checks (a
    maintenance window, say)."""
    bearer = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        catalog = session.get(f"{url}/api/v1/catalog", headers=bearer, timeout=10)
    except requests.RequestException as exc:
        raise ConfigError(
            f"gateway {url} does not answer: {failure(exc)}",
            hint="check that it still runs and is reachable",
        ) from None
    refuse_non_gateway(url, catalog)
    if catalog.status_code in (401, 403):
        raise ConfigError(f"{refused} ({catalog.status_code} {answer_codes(catalog)})", hint=hint)
    return catalog


UNKNOWN_PROCEDURE = "000"
"""No catalog has it: a probe naming it is refused (ENV-002) after the I-VAN check
(ENV-010) and before anything is stored."""


def ivan_probe(envelope: bytes) -> bytes | None:
    """``envelope`` (a valid dossier) renamed to an unknown procedure: sent with a token,
    it says whether the token is the I-VAN's the envelope names (ENV-010 if not) and is
    never stored. None if the envelope names no procedure."""
    from lxml import etree

    from harness.xmlsafe import parse_xml

    root = parse_xml(envelope)
    node = root.find(".//{*}MaThuTuc")
    if node is None:
        return None
    node.text = UNKNOWN_PROCEDURE
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def dossier_probe(factory: DossierFactory) -> bytes | None:
    """:func:`ivan_probe` of a dossier of the factory's first procedure, naming its I-VAN
    (check the code first: :func:`harness.conformance.factory_for_ivan`)."""
    return ivan_probe(factory.build(next(iter(factory.catalog.procedures)), 0).envelope)


def refuse_foreign_token(
    session: requests.Session, url: str, token: str, ivan: str, probe: bytes, hint: str
) -> None:
    """Refuse a token the gateway accepts but for another I-VAN than ``ivan``: every
    dossier would get 403 ENV-010, and the run would report the gateway as failing."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/xml",
        "X-Message-Id": str(uuid.uuid4()),
    }
    try:
        answer = session.post(f"{url}/api/v1/dossiers", data=probe, headers=headers, timeout=30)
    except requests.RequestException as exc:
        raise ConfigError(
            f"gateway {url} does not answer: {failure(exc)}",
            hint="check that it still runs and is reachable",
        ) from None
    if answer.headers.get("X-BHXH-Ma-Loi", "") == "ENV-010" or b"ENV-010" in answer.content:
        raise ConfigError(
            f"the token given for {ivan} is another I-VAN's: the gateway at {url} refuses "
            f"dossiers naming MaIVAN {ivan} from it ({answer.status_code} ENV-010)",
            hint=hint,
        )


def check_second_ivan(
    session: requests.Session,
    url: str,
    second: tuple[str, str],
    own: tuple[str, str],
    probe: bytes | None,
    *,
    own_is: str,
    catalog_required: bool = True,
) -> None:
    """Refuse ``--ivan-token CODE=TOKEN`` (``second``) that cannot be a second I-VAN
    beside ``own`` (code, token): the same I-VAN (``own_is`` says which that is), the
    same token, a token the gateway refuses, or one it takes for another I-VAN
    (``probe``: a dossier naming CODE it must refuse, but not ENV-010). Without
    ``catalog_required`` a catalog endpoint failing does not stop the check."""
    (code, token), (own_ivan, own_token) = second, own
    issued = f"the token the gateway issued to {code}"
    hint = f"give {issued}"
    if code == own_ivan:
        raise UsageError(
            f"--ivan-token {code}=...: {code} is {own_is}",
            hint="give --ivan-token NAME=TOKEN of a second I-VAN, e.g. IVAN02=<its token>",
        )
    if token == own_token:
        raise UsageError(
            f"--ivan-token {code}=...: the same token as --token (the I-VAN {own_ivan})",
            hint=hint,
        )
    refused = f"--ivan-token {code}=... is refused by the gateway"
    try:
        check_token(session, url, token, refused=refused, hint=hint)
    except CatalogEndpointFailed:
        if catalog_required:
            raise
    if probe is not None:
        refuse_foreign_token(
            session, url, token, code, probe, f"give --ivan-token {code}=<{issued}>"
        )


__all__ = [
    "PORT_RANGE",
    "UNKNOWN_PROCEDURE",
    "CatalogEndpointFailed",
    "answer_codes",
    "check_second_ivan",
    "check_token",
    "dossier_probe",
    "gateway_base_url",
    "ivan_probe",
    "refuse_foreign_token",
    "refuse_non_gateway",
    "reported_clock_speed",
]
