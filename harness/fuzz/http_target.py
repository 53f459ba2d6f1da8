"""The fuzz :class:`~harness.fuzz.target.Target` over HTTP: any gateway URL, or the
in-process mock gateway through a ``requests`` session mounted on its core.

Only the wire protocol of DESIGN.md is assumed (``POST /api/v1/dossiers`` with
``X-Message-Id``, ``GET /api/v1/dossiers/{id}``, ``GET /api/v1/catalog``), so the same
properties judge our mock and a BHXH staging URL. :func:`url_target` checks a URL before
any case: a wrong URL or token would otherwise fail every case and fill ``found/`` with
"minimal failures" that say nothing about the gateway.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from harness.catalog import Catalog
from harness.client import parse_answer, retry_after
from harness.errors import ConfigError, GatewayUnavailable
from harness.fuzz.target import Retrieved, Submitted, finding_detail, is_error
from harness.gateway_url import check_token, gateway_base_url, refuse_foreign_token
from harness.served_versions import check_serves, listed_catalogs
from harness.tls import Verify, failure, gateway_session, reach
from harness.xmlsafe import XMLRejected, parse_xml

if TYPE_CHECKING:  # signxml: not at the CLI's start-up
    from harness.signing import TrustStore

LOCAL = "inproc"
"""What ``--gateway`` calls the in-process mock gateway."""
HEALTH_TIMEOUT = 3.0
"""Seconds ``/healthz`` may take to say the gateway is still there after a dropped
connection: within a case's own time limit (5 s), so the answer is not lost."""
BHXH_SIGNATURE = "XACNHAN_GDICH/TTCKY_BHXH"
"""Where BHXH signs every receipt and refusal (DOMAIN.md)."""
TRUST_CODES = frozenset({"SIG-004", "SIG-005", "SIG-006"})
"""Findings about the signer's certificate (chain, validity, revocation), not the bytes."""


@dataclass
class HttpTarget:
    """Submits over ``session`` (which carries the I-VAN's credential) to ``base_url``.

    ``unavailable`` is set once a connection failed and ``/healthz`` did not answer either:
    the gateway went away, which says nothing about the case being sent.
    """

    session: requests.Session
    base_url: str
    name: str = "http"
    timeout: float = 30.0
    unavailable: GatewayUnavailable | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list, repr=False)
    """What could not be checked before the run (the run's report and summary say it)."""
    trust: TrustStore | None = field(default=None, repr=False)
    """Whose certificate counts as BHXH's (the mock's PKI in process); None judges the
    signature's bytes only: a staging gateway's CA is not in the harness's test PKI."""

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``method`` of ``path`` under ``base_url``; a dropped connection is raised once
        ``/healthz`` says the gateway is still there (:meth:`check_still_there`)."""
        url = f"{self.base_url.rstrip('/')}{path}"
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError as exc:
            self.check_still_there(exc)
            raise

    def submit(self, body: bytes, message_id: str) -> Submitted:
        headers = {"Content-Type": "application/xml", "X-Message-Id": message_id}
        response = self.request("POST", "/api/v1/dossiers", data=body, headers=headers)
        answer = parse_answer(response.status_code, response.content)
        codes = tuple(f.code for f in answer.findings)
        receipt = answer.ma_gdich or None if response.status_code == 202 else None
        errors = [f for f in answer.findings if is_error(f.code)]
        detail = finding_detail(errors[0]) if errors else ""
        status, content = response.status_code, response.content
        signature = signature_problem(content, self.trust) if status < 500 else None
        wait = _asked_to_wait(response)
        return Submitted(status, codes, receipt, detail, wait, content, signature)

    def fetch(self, receipt_id: str) -> Retrieved:
        """Read the dossier back; its stored bytes when the status carries them.

        The status document may embed the stored envelope (``HOSO/NOI_DUNG_HOSO``, base64);
        a gateway that does not is still judged on answering 200 for its own receipt.
        """
        response = self.request("GET", f"/api/v1/dossiers/{receipt_id}")
        if not response.ok:
            return Retrieved(response.status_code, None, _asked_to_wait(response))
        try:
            stored = parse_xml(response.content).findtext("HOSO/NOI_DUNG_HOSO")
        except XMLRejected:
            stored = None
        return Retrieved(response.status_code, base64.b64decode(stored) if stored else None)

    def check_still_there(self, exc: requests.ConnectionError) -> None:
        """A dropped connection is the gateway's answer to the case while ``/healthz`` still
        answers; if it does not, the gateway went away: :class:`GatewayUnavailable`."""
        try:
            self.session.get(f"{self.base_url.rstrip('/')}/healthz", timeout=HEALTH_TIMEOUT)
        except requests.RequestException:
            self.unavailable = GatewayUnavailable(
                f"the gateway at {self.base_url} stopped answering (/healthz too): {failure(exc)}"
            )
            raise self.unavailable from None


def signature_problem(body: bytes, trust: TrustStore | None) -> str | None:
    """Why BHXH's signature of answer ``body`` does not hold: "" when it does, None when the
    body is no XML to judge. Without ``trust`` the certificate is judged by itself (its
    chain, validity and revocation are not), so only the signed bytes count."""
    from harness.errors import SignatureInvalid
    from harness.signing import TrustStore, signer_certificate, verify

    try:
        root = parse_xml(body)
    except (XMLRejected, ValueError):
        return None
    judged = trust
    if judged is None:
        signer = signer_certificate(root, signature_parent=BHXH_SIGNATURE)
        if signer is None:
            return "missing (SIG-001)"
        judged = TrustStore([signer])
    try:
        verify(root, signature_parent=BHXH_SIGNATURE, trust=judged)
    except SignatureInvalid as exc:
        return _refused(sorted({f.code for f in exc.findings}), judge_trust=trust is not None)
    except ValueError as exc:  # a certificate or value the signature library cannot read
        return f"unreadable ({type(exc).__name__})"
    return ""


def _refused(codes: list[str], *, judge_trust: bool) -> str:
    """What a refused signature's codes say: missing, invalid, or (when trust is judged)
    untrusted; "" when only trust codes were raised and trust is not judged."""
    if "SIG-001" in codes:
        return "missing (SIG-001)"
    broken = [c for c in codes if c not in TRUST_CODES]
    if broken:
        return f"invalid ({' '.join(broken)})"
    return f"untrusted ({' '.join(codes)})" if judge_trust else ""


def _asked_to_wait(response: requests.Response) -> float | None:
    """Seconds a 429, or a 503 with ``Retry-After``, asks to wait (0 when a 429 names none):
    the gateway is busy or briefly down, which says nothing about the case. A 5xx without
    ``Retry-After`` is None: an answer, judged like any other."""
    asked = retry_after(response)
    if response.status_code == 429:
        return asked or 0.0
    return asked if response.status_code == 503 else None


def http_target(base_url: str, token: str, *, verify_tls: bool | str = True) -> HttpTarget:
    """A target for a gateway at ``base_url``, authenticated with an I-VAN bearer token."""
    session = gateway_session(verify_tls)
    session.headers["Authorization"] = f"Bearer {token}"
    return HttpTarget(session, base_url, name=base_url)


def check_target(target: HttpTarget) -> list[str] | None:
    """Refuse a gateway that does not answer, is in maintenance, is not a BHXH gateway
    (a web server on that port) or refuses the token, before any case is sent; the catalog
    versions its ``/healthz`` lists (None when it does not say)."""
    from harness.regression.transport import maintenance  # xmlschema: only when run

    url = target.base_url
    health = reach(target.session, url)
    stop = maintenance(url, health)
    if stop is not None:
        raise ConfigError(str(stop))
    catalog = check_token(
        target.session,
        url,
        None,  # the session carries the I-VAN's token
        refused=f"the gateway at {url} refuses the I-VAN token",
        hint="pass --token with a bearer token the gateway issued to the I-VAN",
    )
    stop = maintenance(url, catalog)
    if stop is not None:
        raise ConfigError(str(stop))
    return listed_catalogs(health)


def base_url(gateway: str) -> str:
    """``--gateway``'s base URL; a URL with a path is refused (the target appends
    ``/api/v1/...`` itself), ``INPROC`` is told the local gateway's name, and
    ``inproc[NAME]`` (how a report names a simulated release) is told ``--release``."""
    simulated = re.fullmatch(rf"\s*{LOCAL}\[(.*)\]\s*", gateway, flags=re.IGNORECASE)
    if simulated:
        raise ConfigError(
            f"--gateway {gateway}: a simulated release is chosen with --release",
            hint=f"--gateway {LOCAL} --release {simulated.group(1).strip() or 'NAME'}",
        )
    base, problem = gateway_base_url(gateway, local=LOCAL)
    if problem:
        raise ConfigError(
            problem,
            hint=f"give the gateway's base URL, e.g. http://127.0.0.1:8080, or '{LOCAL}' to "
            "fuzz the mock gateway in this process",
        )
    return base


def url_target(
    gateway: str,
    token: str,
    *,
    verify_tls: Verify = True,
    ivan: str | None = None,
    probe: bytes | None = None,
    catalog: Catalog | None = None,
    periods: Sequence[str] | None = None,
) -> HttpTarget:
    """A target for ``--gateway URL``, checked by :func:`check_target` before any case.

    With ``probe`` (a dossier naming ``ivan`` that the gateway refuses without storing it,
    :func:`harness.gateway_url.ivan_probe`) a token of another I-VAN is refused too: every
    case would get 403 ENV-010, reported as the gateway's failures. With ``catalog``, a
    gateway that would judge its dossiers of ``periods`` by another version is refused
    (:func:`harness.served_versions.check_serves`): every valid dossier would fail.
    """
    target = http_target(base_url(gateway), token, verify_tls=verify_tls)
    try:
        served = check_target(target)
        if catalog is not None:
            note = check_serves(catalog, served, periods)
            target.notes += [note] if note else []
        if ivan and probe:
            hint = f"pass --ivan with the token's I-VAN code, or a token of {ivan}"
            refuse_foreign_token(target.session, target.base_url, token, ivan, probe, hint)
    except BaseException:
        target.session.close()  # a refused gateway is not left a connection to wait on
        raise
    return target


__all__ = [
    "BHXH_SIGNATURE",
    "LOCAL",
    "HttpTarget",
    "base_url",
    "check_target",
    "http_target",
    "signature_problem",
    "url_target",
]
