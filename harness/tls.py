"""How the harness checks a gateway's TLS certificate, so ``--ca-bundle`` and ``--insecure``
mean what they say on every machine.

requests lets ``$REQUESTS_CA_BUNDLE`` (or ``$CURL_CA_BUNDLE``) override a session's
``verify`` (psf/requests#3829). Where a company sets that variable, as many do for their
proxy's CA, a session told to trust a staging gateway's CA, or to check nothing, would
quietly check against the company bundle instead and fail. :class:`GatewaySession`
keeps the session's own choice; with no choice made, the variable still applies.
"""

from __future__ import annotations

import re
import ssl
from typing import Any

import requests
import urllib3

from harness.errors import ConfigError

Verify = bool | str
"""What ``requests`` takes as ``verify``: True (system or environment CAs), False (no
check) or the path of a CA bundle."""


UNTRUSTED_HINT = (
    "pass --ca-bundle FILE with the CA that signed it, or --insecure for a test gateway"
)
"""What to do about a gateway whose TLS certificate is not trusted."""

_PLAIN_HTTP = re.compile(r"WRONG_VERSION_NUMBER|record layer failure|http request", re.I)
"""OpenSSL's ways of saying the server answered a TLS hello in plain HTTP."""


def verify_option(insecure: bool, ca_bundle: str | None) -> Verify:
    """``verify`` from the CLI's ``--insecure`` and ``--ca-bundle`` (checked to be PEM)."""
    if insecure and ca_bundle:
        raise ConfigError("--insecure and --ca-bundle exclude each other", hint="choose one")
    if ca_bundle:
        check_ca_bundle(ca_bundle)
    return False if insecure else (ca_bundle or True)


def check_ca_bundle(path: str) -> None:
    """Refuse a ``--ca-bundle`` that holds no PEM certificate: every https:// request
    would otherwise fail as "not trusted", which sends the user after the wrong file."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except FileNotFoundError:
        raise ConfigError(f"--ca-bundle {path} does not exist") from None
    except (ssl.SSLError, ValueError, OSError):
        raise ConfigError(
            f"--ca-bundle {path} is not a PEM CA bundle (no certificate found in it)",
            hint="pass the CA certificate(s) as PEM text, blocks starting with "
            "-----BEGIN CERTIFICATE----- (convert a DER file with "
            "openssl x509 -inform der -in ca.der -out ca.pem)",
        ) from None


class GatewaySession(requests.Session):
    """A ``requests.Session`` whose ``verify`` wins over ``$REQUESTS_CA_BUNDLE``, and whose
    :meth:`close` closes its connections."""

    def close(self) -> None:
        """Close every pooled connection now, then the session.

        urllib3 2 leaves a pool's connections to the pool's garbage collection, and a
        response still referenced (a client's last answer) keeps its pool alive: the
        connection stayed open, and an HTTPS gateway stopping waited 30 s on it.
        """
        for adapter in self.adapters.values():
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                pools = adapter.poolmanager.pools
                # keys() is a copy (iterating the container itself is refused: not thread-safe)
                for key in pools.keys():  # noqa: SIM118
                    pool = pools.get(key)
                    if pool is not None:
                        pool.close()
        super().close()

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True:  # the session chose: keep it
            settings["verify"] = self.verify
        return settings


def gateway_session(verify: Verify = True) -> requests.Session:
    """A session checking TLS certificates as ``verify`` says.

    ``False`` also silences urllib3's warning on every request, for the whole process:
    the user asked for no check (``--insecure``), and a warning per request would bury
    the output.
    """
    session = GatewaySession()
    session.verify = verify
    if verify is False:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return session


def reach(
    session: requests.Session, url: str, hint: str = "check the URL and that the gateway runs"
) -> requests.Response:
    """``GET url/healthz`` through ``session``; a gateway that does not answer (``hint``
    says what to do), or whose certificate is not trusted, is a :class:`ConfigError`."""
    try:
        return session.get(url.rstrip("/") + "/healthz", timeout=10)
    except requests.exceptions.SSLError as exc:
        reason = _reason(exc)
        if _PLAIN_HTTP.search(reason):  # --insecure would not help: there is no TLS at all
            raise ConfigError(
                f"gateway {url} does not speak TLS ({reason})",
                hint="use its http:// URL, or serve it with a certificate",
            ) from None
        mismatch = _host_mismatch(exc)
        if mismatch:  # the CA may be the right one: another --ca-bundle would not help
            raise ConfigError(
                f"gateway {url}: its TLS certificate is not valid for that host name ({mismatch})",
                hint="use a host name or address the certificate was issued for (its "
                "subjectAltName) in the URL, or --insecure for a test gateway",
            ) from None
        raise ConfigError(
            f"gateway {url}: its TLS certificate is not trusted ({reason})", hint=UNTRUSTED_HINT
        ) from None
    except requests.RequestException as exc:
        raise ConfigError(f"gateway {url} does not answer: {failure(exc)}", hint=hint) from None


def failure(exc: requests.RequestException) -> str:
    """What went wrong, in words a user can act on, not a requests class name."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection timed out (a firewall, or a wrong address?)"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer within the time allowed"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = _reason(exc).lower()
        if "refused" in reason:
            return "the connection was refused (nothing listens on that port)"
        if "name or service not known" in reason or "resolve" in reason:
            return "the host name does not resolve"
        return "the connection failed or was dropped"
    if isinstance(
        exc,
        requests.exceptions.InvalidSchema
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidURL,
    ):
        return "it is not an http:// or https:// URL"
    return _reason(exc)


def _host_mismatch(exc: BaseException) -> str:
    """OpenSSL's words when the certificate is sound but names other hosts ("Hostname
    mismatch, certificate is not valid for 'localhost'."), else ""."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        said = str(getattr(exc, "verify_message", "") or "")
        if "mismatch" in said.lower():
            return said.rstrip(".")
    return ""


def _reason(exc: BaseException) -> str:
    """The innermost message of a chained TLS error, e.g. "certificate verify failed"."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(getattr(exc, "reason", None) or exc)[:200]


__all__ = [
    "UNTRUSTED_HINT",
    "GatewaySession",
    "Verify",
    "check_ca_bundle",
    "failure",
    "gateway_session",
    "reach",
    "verify_option",
]
