"""What ``bhxh-harness fuzz`` checks and builds before its first case.

Its options against the gateway chosen, the folders it will write, the families and the
dossier pool, and the gateway target itself: all refused or built before a dossier is
signed or a case sent, so a mistake costs seconds, not an hour of fuzzing.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UsageError
from harness.fuzz.evidence import GatewayReplay, found_dir
from harness.fuzz.http_target import LOCAL, HttpTarget, base_url, url_target
from harness.paths import writable_folder
from harness.served_versions import check_serves, dossier_periods
from harness.suggestions import did_you_mean
from harness.tls import Verify

if TYPE_CHECKING:  # a run's modules (hypothesis, signxml...) load when it starts, not at --help
    from harness.fuzz.pool import DossierPool


def check_folders(out: Path | None, found: Path | None) -> None:
    """Refuse, before any case, a --out or --found that cannot be written: not once an
    hour of fuzzing is done and lost."""
    if out is not None:
        writable_folder(out, "the report", hint="name with --out a folder you may write to")
    writable_folder(
        found_dir(found),
        "the minimal failures",
        hint="name with --found a folder you may write to (or set $BHXH_FUZZ_FOUND)",
    )


def check_gateway_options(
    gateway: str,
    token: str | None,
    release: str | None,
    admin_token: str | None = None,
    ivan_tokens: tuple[str, ...] = (),
) -> None:
    """Refuse options the chosen gateway would ignore: a run that silently drops one is
    not the run that was asked for."""
    if gateway == LOCAL and (admin_token or ivan_tokens):
        given = "--admin-token" if admin_token else "--ivan-token"
        raise UsageError(
            f"{given} is for a gateway URL: --gateway {LOCAL} uses the mock's test tokens",
            hint=f"leave {given} out, or give --gateway <the gateway's base URL>",
        )
    if gateway != LOCAL and release:
        raise UsageError(
            f"--release {release}: only --gateway {LOCAL} can simulate a release",
            hint=f"leave --release out for a URL, or give --gateway {LOCAL} --release {release}",
        )
    if gateway == LOCAL and token:
        raise UsageError(
            f"--token is for a gateway URL: --gateway {LOCAL} submits with the I-VAN's own token",
            hint="leave --token out, or give --gateway <the gateway's base URL>",
        )


@contextmanager
def fuzz_target(
    gateway: str,
    token: str | None,
    pool: DossierPool,
    verify_tls: Verify,
    release: str | None = None,
    procedures: tuple[str, ...] = (),
) -> Iterator[HttpTarget]:
    """The gateway to fuzz, submitting as the I-VAN ``pool``'s dossiers name (in process:
    simulating ``release``, a faulty release of ``fixtures/releases``)."""
    ivan = pool.factory.ivan[0]
    periods = run_periods(pool, procedures)
    if gateway != LOCAL:
        url = base_url(gateway)
        if not token:
            raise UsageError("--token is needed with a gateway URL", hint="--token <I-VAN bearer>")
        # A wrong URL or token, or a catalog it does not serve, is the user's setting, not a
        # finding about the gateway.
        target = url_target(
            url, token, verify_tls=verify_tls, ivan=ivan, probe=probe_dossier(pool),
            catalog=pool.catalog, periods=periods,
        )  # fmt: skip
        with target.session:  # an HTTPS gateway waits on a connection left open (30 s)
            yield target
        return
    from harness.identities import token_of
    from mock_gateway.config import DEFAULT_IVAN_TOKENS
    from mock_gateway.releases import load_release
    from mock_gateway.testing import InProcessGateway
    from mock_gateway.transport import DEFAULT_BASE_URL

    load_release(release)  # an unknown name is refused, with the known ones
    tokens = {ivan: token_of(ivan), **DEFAULT_IVAN_TOKENS}  # ours: it knows --ivan
    with InProcessGateway(pki=pool.pki, ivan_tokens=tokens, release=release) as local:
        check_serves(pool.catalog, local.gateway.catalogs.versions, periods)
        session = local.session(DEFAULT_BASE_URL, ivan=ivan)
        name = LOCAL + (f"[{release}]" if release else "")  # as regress names it
        # the mock's signatures are judged against its own PKI's trust, not the bytes alone
        yield HttpTarget(session, DEFAULT_BASE_URL, name=name, trust=pool.pki.trust_store())


def run_periods(pool: DossierPool, procedures: tuple[str, ...]) -> list[str]:
    """The periods the run's dossiers declare: each procedure's first, and the months after
    it that :func:`harness.fuzz.strategies.dossier_specs` spreads valid dossiers over."""
    from harness.fuzz.strategies import dossier_specs

    months = inspect.signature(dossier_specs).parameters["months"].default
    return dossier_periods(pool.catalog, procedures or None, months=int(months))


def probe_dossier(pool: DossierPool) -> bytes | None:
    """A dossier naming the pool's I-VAN that a gateway refuses without storing it: ENV-010
    when the token is another I-VAN's (see :func:`harness.gateway_url.ivan_probe`)."""
    from harness.gateway_url import ivan_probe

    first = next(iter(pool.catalog.procedures))
    return ivan_probe(pool.factory.build(first, 0).envelope)


def gateway_replay(
    gateway: str, target: HttpTarget, verify_tls: Verify, ivan: str, release: str | None = None
) -> GatewayReplay | None:
    """Reproduce lines that send the found dossier to the gateway fuzzed: a URL, or the
    faulty release served by ``bhxh-harness serve`` (the correct gateway shows nothing)."""
    if gateway == LOCAL:
        return None if release is None else GatewayReplay(LOCAL, ivan=ivan, release=release)
    return GatewayReplay(target.base_url, verify_tls, ivan)


def dossier_pool(version: str | None, ivan: str, procedures: tuple[str, ...]) -> DossierPool:
    """The dossiers' pool: the catalog, the test PKI, and ``ivan`` checked to fit MaIVAN;
    each ``--procedure`` is checked against the catalog before any dossier is signed."""
    from harness.catalog import latest_version, load_catalog
    from harness.fuzz.pool import pool_for
    from harness.signing import ensure_pki

    catalog = load_catalog(version or latest_version())
    unknown = [p for p in procedures if p not in catalog.procedures]
    if unknown:
        raise UsageError(
            f"--procedure {', '.join(unknown)}: not in catalog {catalog.version}",
            hint=f"{did_you_mean(unknown[0], catalog.procedures)}"
            f"known procedures: {', '.join(catalog.procedures)}",
        )
    return pool_for(catalog, ensure_pki(), ivan)


VALID = "valid"
"""The valid dossiers as a family (some in a quirk real software writes: NFD names, a GUID
signature Id...): every run mixes them in; named alone, nothing else."""


def chosen_families(names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The mutation families to run (``()``: the valid dossiers alone), checked before the
    catalog is loaded or a dossier signed; ``None`` for every family."""
    from harness.fuzz.mutations import FAMILIES

    if not names:
        return None
    unknown = [n for n in names if n != VALID and n not in FAMILIES]
    if unknown:  # "did you mean" each mistyped one ("wag": "wage"), named if several are
        guesses = [(n, did_you_mean(n, [*FAMILIES, VALID])) for n in unknown]
        guess = "".join(g if len(unknown) == 1 else f"{n}: {g}" for n, g in guesses if g)
        raise UsageError(
            f"--family {', '.join(unknown)}: not a mutation family",
            hint=f"{guess}choose among {', '.join(FAMILIES)}, or {VALID} (the valid dossiers "
            "alone, some in real-world quirks; every run mixes them in)",
        )
    return tuple(n for n in names if n != VALID)
