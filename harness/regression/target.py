"""The gateway a ``record`` or ``regress`` run talks to: ``"inproc"`` (a fresh mock gateway,
optionally simulating a faulty release) or a URL, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.errors import UsageError
from harness.identities import DEFAULT_IVAN_CODE
from harness.regression.preflight import base_url, check_gateway, check_neighbour
from harness.regression.replay import GatewayTarget
from harness.signing import TestPKI


@contextmanager
def open_target(
    gateway: str,
    *,
    token: str | None = None,
    admin_token: str | None = None,
    verify_tls: bool | str = True,
    release: str | None = None,
    catalogs: tuple[str, ...] = (),
    pki: TestPKI | None = None,
    poll_timeout: float = 300.0,
    poll_interval: float = 2.0,
    ivan: str = DEFAULT_IVAN_CODE,
    probe: bytes | None = None,
    ivan_hint: str = "",
    catalog_required: bool = True,
    neighbour: tuple[str, str] | None = None,
    neighbour_probe: bytes | None = None,
) -> Iterator[GatewayTarget]:
    """A :class:`GatewayTarget` for ``"inproc"`` (a fresh mock gateway) or a URL; a URL
    gateway is checked first (:func:`~harness.regression.preflight.check_gateway`), with
    ``probe`` (a dossier it must refuse) telling whether the token is ``ivan``'s (without
    ``catalog_required``, a catalog endpoint answering 500 does not stop the run), and
    so is ``neighbour`` (a second I-VAN's code and token) with ``neighbour_probe``."""
    if gateway != "inproc":
        url = base_url(gateway)
        if not token:
            raise UsageError("a gateway URL needs an I-VAN token", hint="--token <bearer>")
        if release or catalogs:
            raise UsageError("--release and --serve-catalog only apply to --gateway inproc")
        target = GatewayTarget(
            url, token, admin_token, verify_tls, name=gateway,
            poll_timeout=poll_timeout, poll_interval=poll_interval, neighbour=neighbour,
        )  # fmt: skip
        check_gateway(
            target, ivan=ivan, probe=probe, ivan_hint=ivan_hint, catalog_required=catalog_required
        )
        if neighbour is not None:
            check_neighbour(target, ivan, neighbour_probe)
        yield target
        return
    if neighbour is not None:
        raise UsageError(
            "--ivan-token only applies to a gateway URL",
            hint="--gateway inproc checks isolation with the mock's second I-VAN already",
        )
    from harness.regression._inproc import inproc_target  # the only mock_gateway import

    with inproc_target(release=release, catalogs=catalogs, pki=pki, ivan=ivan) as target:
        yield target


__all__ = ["open_target"]
