"""A builder's explicit choices of period and form versions, checked before building.

``dossier build --period`` and ``--form-version`` let BHXH IT build the dossiers a catalog
change is about (the month a new version takes effect, an older form version still
accepted). A choice the gateway would judge under another catalog version, or refuse as
not in force, would make the printed "gateway must answer: accepted" false, so it is
refused here with the option that builds what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from harness.catalog import Catalog, Procedure, list_versions, load_catalog, period_key
from harness.dossiers.text import parse_period
from harness.errors import CatalogError, UsageError
from harness.served_catalogs import governing
from harness.suggestions import did_you_mean

if TYPE_CHECKING:
    from harness.dossiers.factory import Dossier, DossierFactory


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
    judged = judge.procedure(procedure.code)
    if judge.version != catalog.version and (judged is None or not judged.in_force(period)):
        raise UsageError(  # "pass --catalog <judge>" would only lead to this refusal
            f"procedure {procedure.code} is not in force in {period} under catalog "
            f"{judge.version}, the version a gateway judges that period by"
            + (f" (in force from {judged.in_force_from})" if judged else ""),
            hint=f"leave out --period for the first period catalog {catalog.version} and "
            f"procedure {procedure.code} are both in effect, or choose a later one",
        )
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


def check_period_carried(
    factory: DossierFactory, procedure: str, period: str, form_versions: Mapping[str, str]
) -> None:
    """Build a valid dossier of ``period`` and check it as the gateway would: a period the
    catalog's envelope schema cannot carry (``01/2100`` where KyKeKhai's pattern stops at
    2099) would make every dossier of it refused, and "accepted" a false promise."""
    from harness.conformance import DossierChecker

    built = factory.build(procedure, 0, period=period, form_versions=form_versions)
    checked = DossierChecker(factory.catalog, factory.pki.trust_store()).check(built.envelope)
    if checked.accepted:
        return
    said = "; ".join(f"{f}" + (f" [{f.detail}]" if f.detail else "") for f in checked.errors[:2])
    raise UsageError(
        f"--period {period}: catalog {factory.catalog.version} cannot carry it, the gateway "
        f"refuses a valid dossier declaring it: {said}",
        hint="choose a period the catalog's envelope schema allows (see the findings), or "
        "leave out --period",
    )


def check_period_kept(built: Dossier, period: str | None) -> None:
    """Refuse a ``--period`` the chosen defect replaces (``procedure-not-in-force`` declares
    a period before the procedure's): the file would not say what was asked for."""
    from harness.envelope import read_envelope
    from harness.xmlsafe import parse_xml

    if period is None:
        return
    declared = read_envelope(parse_xml(built.envelope)).ky_ke_khai
    if declared != period:
        raise UsageError(
            f"--defect {built.defect} declares its own period ({declared}), not --period {period}",
            hint=f"leave out --period with --defect {built.defect}",
        )


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


__all__ = [
    "check_period_carried",
    "check_period_kept",
    "chosen_form_versions",
    "chosen_period",
    "loadable_versions",
]
