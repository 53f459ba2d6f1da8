"""Whether a gateway serves the catalog a run builds its dossiers for.

A gateway judges each dossier by the latest version it serves in effect for the dossier's
period (:mod:`harness.served_catalogs`). A run of catalog X against a gateway that does not
list X, or that also serves a newer version already in effect for X's periods, has its
dossiers judged by other rules: every valid dossier refused, or a report titled X that says
nothing about X. ``record``, ``certify``, ``fuzz`` and ``load`` ask :func:`check_serves`
before any dossier is sent, so all four mean the same by "serves".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import requests

from harness.catalog import Catalog, load_catalog, period_key
from harness.dossiers.text import Period, parse_period
from harness.errors import CatalogError, UsageError
from harness.tls import reach


def listed_catalogs(health: requests.Response) -> list[str] | None:
    """The versions a ``/healthz`` answer lists (``catalogs``), in its order; None when it
    does not say (not 200, not JSON, no list of names): a gateway that is not the mock."""
    try:
        body = health.json() if health.status_code == 200 else None
    except ValueError:
        return None
    versions = body.get("catalogs") if isinstance(body, dict) else None
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        return None
    return versions


def healthz_catalogs(
    session: requests.Session, base_url: str, hint: str = "check the URL and that the gateway runs"
) -> list[str] | None:
    """``GET base_url/healthz``'s catalog list (:func:`listed_catalogs`); a gateway that does
    not answer is a :class:`~harness.errors.ConfigError` saying ``hint``."""
    return listed_catalogs(reach(session, base_url, hint))


def _period(key: int) -> str:
    return f"{key % 100:02d}/{key // 100}"


def dossier_periods(
    catalog: Catalog, procedures: Iterable[str] | None = None, *, months: int = 1
) -> list[str]:
    """The periods (``MM/yyyy``) dossiers of ``catalog`` declare: from the factory's default
    (:meth:`~harness.catalog.Catalog.first_period`) for ``months`` months, clipped to the
    procedure's ``in_force.until`` (how fuzz spreads its valid dossiers)."""
    found: set[Period] = set()
    for code in procedures or catalog.procedures:
        procedure = catalog.procedures.get(code)
        if procedure is None:  # the run refuses an unknown procedure itself, saying which
            continue
        first = parse_period(catalog.first_period(procedure))
        until = procedure.in_force_until
        for period in (first.shifted(n) for n in range(max(months, 1))):
            if period > first and until is not None and period > parse_period(until):
                break
            found.add(period)
    return [str(p) for p in sorted(found)]


def _starts(catalog: Catalog, others: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """The first period of each of ``others`` found beside ``catalog`` (same catalog folder),
    and those this harness does not have (or cannot read): their start is unknown."""
    known: dict[str, int] = {}
    unknown: list[str] = []
    for version in others:
        try:
            known[version] = period_key(load_catalog(version, catalog.root.parent).effective_from)
        except CatalogError:
            unknown.append(version)
    return known, unknown


def _not_listed(version: str, served: Sequence[str], hint: str | None) -> UsageError:
    return UsageError(
        f"the gateway does not serve catalog {version}: it serves {' '.join(served) or 'none'}",
        hint=hint
        or f"serve catalog {version} there (bhxh-harness serve --catalog {version} ...), or "
        "pass --catalog with one of the versions it serves",
    )


def check_serves(
    catalog: Catalog,
    served: Sequence[str] | None,
    periods: Iterable[str] | None = None,
    *,
    hint: str | None = None,
) -> str | None:
    """Refuse (:class:`UsageError`) a gateway serving ``served`` that would not judge the
    dossiers of ``catalog`` for ``periods`` (default: :func:`dossier_periods`) by that catalog:
    it does not list it, or a newer version it serves is in effect by one of those periods.

    Returns a note when that cannot be told (``served`` None: its ``/healthz`` lists no
    catalogs; or it also serves a newer version this harness does not have), else None.
    ``hint`` replaces the default one for a catalog it does not list.
    """
    version = catalog.version
    if served is None:
        return (
            f"could not check that the gateway serves catalog {version}: its /healthz lists "
            "no catalogs"
        )
    if version not in served:
        raise _not_listed(version, served, hint)
    keys = sorted({period_key(p) for p in (periods or dossier_periods(catalog))})
    start = period_key(catalog.effective_from)
    known, unknown = _starts(catalog, [v for v in served if v != version])
    newer = sorted((s, v) for v, s in known.items() if s > start)
    taking = [(s, v) for s, v in newer if keys and s <= keys[-1]]
    if taking:
        raise _taken_over(catalog, taking[0][1], _period(taking[0][0]), keys)
    later = [v for v in unknown if served.index(v) > served.index(version)]
    if later and keys:
        return (
            f"the gateway also serves {' '.join(later)}, which this harness does not have: "
            f"if one takes effect by {_period(keys[-1])}, it judges those dossiers of "
            f"catalog {version} instead"
        )
    return None


def _taken_over(catalog: Catalog, newer: str, since: str, keys: list[int]) -> UsageError:
    """A newer served version governs some of the run's periods: the gateway judges those
    dossiers by its rules, which the run would report as catalog ``catalog``'s."""
    version = catalog.version
    affected = [_period(k) for k in keys if k >= period_key(since)]
    shown = affected[0] if len(affected) == 1 else f"{affected[0]} to {affected[-1]}"
    return UsageError(
        f"the gateway serves catalog {version} but also {newer}, in effect from {since}: it "
        f"judges the run's dossiers of {shown} by catalog {newer}, not {version}",
        hint=f"pass --catalog {newer}, or serve a gateway without {newer} "
        f"(bhxh-harness serve --catalog {version} ...)",
    )


__all__ = ["check_serves", "dossier_periods", "healthz_catalogs", "listed_catalogs"]
