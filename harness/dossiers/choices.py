"""A builder's explicit choices of period and form versions, checked before building.

``dossier build --period`` and ``--form-version`` let BHXH IT build the dossiers a catalog
change is about (the month a new version takes effect, an older form version still
accepted). A choice the gateway would judge under another catalog version, or refuse as
not in force, would make the printed "gateway must answer: accepted" false, so it is
refused here with the option that builds what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.catalog import Catalog, Procedure, list_versions, load_catalog, period_key
from harness.dossiers.text import parse_period
from harness.errors import CatalogError, UsageError
from harness.served_catalogs import governing
from harness.suggestions import did_you_mean


def chosen_period(
    text: str, catalog: Catalog, procedure: Procedure, versions: Sequence[Catalog]
) -> str:
    """``text`` as ``MM/yyyy`` when ``catalog`` governs it among ``versions`` (every version
    on disk, as a gateway serving them all picks one by period) and ``procedure`` is in
    force then; a :class:`UsageError` naming the right option otherwise."""
    try:
        period = str(parse_period(text.strip()))
    except ValueError as exc:
        raise UsageError(f"--period: {exc}", hint="e.g. --period 01/2026") from None
    in_order = sorted(versions, key=lambda c: period_key(c.effective_from))
    judge = governing(in_order, period) if in_order else catalog
    if judge.version != catalog.version:
        raise UsageError(
            f"--period {period} is governed by catalog {judge.version}, not "
            f"{catalog.version}: a gateway serving both judges the dossier by {judge.version}",
            hint=f"pass --catalog {judge.version}, or a period catalog {catalog.version} "
            f"governs (from {catalog.effective_from}{_until(catalog, versions)})",
        )
    if not procedure.in_force(period):
        until = f" until {procedure.in_force_until}" if procedure.in_force_until else ""
        raise UsageError(
            f"procedure {procedure.code} is not in force in {period} (in force from "
            f"{procedure.in_force_from}{until})",
            hint="choose a period it is in force; for a dossier the gateway must refuse for "
            "this, use --defect procedure-not-in-force",
        )
    return period


def loadable_versions() -> list[Catalog]:
    """Every catalog version on disk that loads: one that does not cannot be served, so it
    governs no period (``catalog check`` says what is wrong with it)."""
    loaded = []
    for version in list_versions():
        try:
            loaded.append(load_catalog(version))
        except CatalogError:
            continue
    return loaded


def _until(catalog: Catalog, versions: Sequence[Catalog]) -> str:
    """How long ``catalog`` governs: until the next of ``versions`` takes effect, or on."""
    later = [
        c for c in versions if period_key(c.effective_from) > period_key(catalog.effective_from)
    ]
    if not later:
        return " on"
    following = min(later, key=lambda c: period_key(c.effective_from))
    return f", until catalog {following.version} takes effect in {following.effective_from}"


def chosen_form_versions(
    pairs: Iterable[str], catalog: Catalog, procedure: Procedure
) -> dict[str, str]:
    """``FORM=VERSION`` pairs as a mapping, each form one ``procedure`` takes and each
    version one ``catalog`` still accepts."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        code, sep, version = (part.strip() for part in pair.partition("="))
        if not sep or not code or not version:
            raise UsageError(
                f"--form-version {pair!r} is not FORM=VERSION",
                hint="e.g. --form-version D02-TS=505",
            )
        if code not in procedure.forms:
            raise UsageError(
                f"--form-version {pair}: procedure {procedure.code} takes no form {code}",
                hint=f"{did_you_mean(code, procedure.forms)}its forms: "
                + ", ".join(procedure.forms),
            )
        accepted = [v.version for v in catalog.forms[code].versions]
        if version not in accepted:
            raise UsageError(
                f"--form-version {pair}: catalog {catalog.version} accepts no version "
                f"{version} of {code}",
                hint=f"versions it accepts: {', '.join(accepted)}",
            )
        if chosen.get(code, version) != version:
            raise UsageError(
                f"--form-version names two versions of {code}", hint="give each form once"
            )
        chosen[code] = version
    return chosen


__all__ = ["chosen_form_versions", "chosen_period", "loadable_versions"]
