"""The smoke run of ``catalog check``: one valid dossier per procedure and form version,
checked as the gateway checks it.

A catalog can compile and still refuse every dossier: a ``choice:`` value in
``fields.yaml`` outside the XSD's pattern, a ``signature_node`` the XSD names otherwise,
a rule that fails when it runs. Each shows up only when a dossier is checked, so the
check builds the dossiers the factory calls valid (as the corpus replays them: every
procedure with its forms current, then once per older version a form still accepts)
and refuses the catalog on any finding or exception, naming what to fix. ``catalog check``
also builds every named defect that applies to a procedure and checks that it gets the
codes it expects (a rule branch only a defective dossier reaches runs there). It warns,
and passes, of what a version adds that nothing exercises (:mod:`.unexercised`), and of
shared data only a version that does not load could need (:mod:`.on_disk`): judging it
by the others would blame them.

This module runs the valid dossiers; beside it, :mod:`.refusal` (what is found) and
:mod:`.refusal_report` (how it is said), :mod:`.finding_fixes` (a finding's likely fault),
:mod:`.agreement_paths`, :mod:`.data_refusals`, :mod:`.defect_checks` and
:mod:`.smoke_cache` (``serve``'s memory of runs that passed).

``serve`` runs the valid dossiers before its banner, once per state of the data
(:func:`check_smoke_once`), and refuses only what is the gateway's own fault (a rule that
fails when run, a signature node its XSD does not allow): the factory's data
(``fields.yaml``) is not what real I-VANs send, so its faults only warn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from harness.catalog import Catalog
from harness.dossiers.agreement_paths import agreement_refusals, run_messages
from harness.dossiers.data_refusals import (
    choice_refusals,
    orphan_refusals,
    unexercised_warnings,
    value_refusals,
)
from harness.dossiers.defect_checks import defect_refusals
from harness.dossiers.finding_fixes import finding_refusal
from harness.dossiers.refusal import (
    CHOICE,
    ORPHAN,
    VALUE,
    WARNINGS,
    Refusal,
    failed,
    unbuilt,
)
from harness.dossiers.refusal_report import factory_warning, grouped, refused
from harness.dossiers.smoke_cache import pass_mark, remember_pass
from harness.signing import TestPKI, ensure_pki

if TYPE_CHECKING:  # the factory (Faker, ~90 ms) is imported when dossiers are built, so
    from harness.conformance import DossierChecker  # a `serve` whose catalogs passed skips it
    from harness.dossiers.choice_rules import FormKey
    from harness.dossiers.factory import DossierFactory

CHECK_SEEDS = 8
"""Seeds each valid dossier of ``catalog check`` is built with (``serve``: seed 0 only).
Measured: 8 seeds add 0.2 to 0.6 s to a version's check (7 to 10 valid dossiers)."""


@dataclass(frozen=True)
class Built:
    """What one smoke dossier is built from: the procedure and the older form version
    it carries (None: every form in its current version)."""

    procedure: str
    older: tuple[str, str] | None = None

    def versions(self) -> dict[str, str]:
        """The factory's ``form_versions``: the older version to build instead of the current."""
        return dict([self.older]) if self.older else {}


def smoke_builds(catalog: Catalog) -> Iterator[Built]:
    """Every procedure with its forms current, then once per older version of its forms."""
    for code, procedure in catalog.procedures.items():
        yield Built(code)
        for form in procedure.forms:
            for version in catalog.forms[form].versions[:-1]:  # the last one is current
                yield Built(code, (form, version.version))


def smoke_run(
    catalog: Catalog,
    pki: TestPKI | None = None,
    *,
    values: bool = True,
    defects: bool = False,
    seeds: int = 1,
) -> list[Refusal]:
    """The refusals of every smoke dossier of ``catalog`` (empty: the catalog passes),
    each built with seeds 0 to ``seeds`` - 1 (a rule relating two drawn values refuses
    some seeds only);
    ``values``: also what only ``catalog check`` judges of the data: :func:`value_refusals`
    (reads every XSD with xmlschema, ~50 ms each), :func:`choice_refusals` and
    :func:`orphan_refusals`; ``defects``: also :func:`defect_refusals`."""
    from harness.conformance import DossierChecker
    from harness.dossiers.factory import DossierFactory

    pki = pki or ensure_pki()
    refusals = [*value_refusals(catalog), *orphan_refusals(catalog)] if values else []
    try:
        factory = DossierFactory(catalog, pki)
    except Exception as exc:  # whatever stops the factory is the factory's
        return [*refusals, unbuilt("", "", exc)]
    checker = DossierChecker(catalog, pki.trust_store())
    messages_run: set[str] = set()
    passed: dict[FormKey, bytes] = {}
    for built in smoke_builds(catalog):
        first = _smoke_one(catalog, factory, checker, built, messages_run, passed)
        refusals += first
        for seed in range(1, seeds) if not first else ():
            at_seed = _smoke_seed(catalog, factory, checker, built, seed)
            refusals += at_seed
            if at_seed:  # one seed says it; `dossier build --seed` shows the others
                break
    if not refusals:  # judged on dossiers that all passed: a refused one holds no path
        refusals += agreement_refusals(catalog, messages_run)
    if values:
        refusals += choice_refusals(catalog, passed)
        refusals += unexercised_warnings(catalog, passed)
    if defects:  # not where the valid dossier fails already: its defects would too
        no_dossier = (VALUE, CHOICE, ORPHAN, *WARNINGS)
        failing = {r.procedure for r in refusals if r.kind not in no_dossier}
        if "" not in failing:
            refusals += defect_refusals(factory, checker, skip=failing)
    return refusals


def _smoke_one(
    catalog: Catalog,
    factory: DossierFactory,
    checker: DossierChecker,
    built: Built,
    done: set[str],
    passed: dict[FormKey, bytes] | None = None,
) -> list[Refusal]:
    """The refusals of one valid dossier: the factory cannot build it (its fault), the
    check finds something (maybe the factory's data), or checking it fails (the gateway's).
    ``passed`` keeps the first accepted document of each form version."""
    where = _form_named(built)
    try:
        dossier = factory.build(
            built.procedure, 0, optional_forms=True, form_versions=built.versions()
        )
    except Exception as exc:  # any failure to build is the factory's
        return [unbuilt(built.procedure, where, exc)]
    try:
        result = checker.check(dossier.envelope)
        if result.findings:
            return [finding_refusal(catalog, built.procedure, f) for f in result.findings]
        run_messages(catalog, dossier, done)
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [failed(built.procedure, where, exc)]
    if passed is not None:
        for form in dossier.forms:
            passed.setdefault((form.form.form, form.form.version), form.content)
    return []


def _smoke_seed(
    catalog: Catalog, factory: DossierFactory, checker: DossierChecker, built: Built, seed: int
) -> list[Refusal]:
    """The refusals of the valid dossier of ``built`` at ``seed``, seed 0's having passed:
    a value drawn for some seeds only breaks a rule (see :func:`seed_hint`)."""
    where = _form_named(built)
    command = build_command(catalog, built, seed)
    try:  # as `dossier build --seed` builds it (its optional forms drawn), so the hint shows it
        dossier = factory.build(built.procedure, seed, form_versions=built.versions())
    except Exception as exc:  # any failure to build is the factory's
        return [_seeded(unbuilt(built.procedure, where, exc), seed, command)]
    try:
        found = checker.check(dossier.envelope).findings
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [_seeded(failed(built.procedure, where, exc), seed, command)]
    return [
        _hinted(finding_refusal(catalog, built.procedure, f, seed), seed, command)
        for f in found[:1]
    ]


def build_command(catalog: Catalog, built: Built, seed: int) -> str:
    """The `dossier build` line that builds the same dossier as the smoke run's ``seed``."""
    forms = "".join(f" --form-version {f}={v}" for f, v in built.versions().items())
    return (
        f"bhxh-harness dossier build {built.procedure} --seed {seed} "
        f"--catalog {catalog.version}{forms}"
    )


def _seeded(refusal: Refusal, seed: int, command: str) -> Refusal:
    """An exception's ``refusal`` at ``seed``, seed 0 having built valid: its text does not
    name the seed, so the seed leads it."""
    return _hinted(replace(refusal, problem=f"seed {seed}: {refusal.problem}"), seed, command)


def _hinted(refusal: Refusal, seed: int, command: str) -> Refusal:
    """``refusal`` at ``seed``, seed 0 having built valid, with how to see it."""
    return replace(refusal, hint=f"{refusal.hint}; {seed_hint(seed, command)}")


def seed_hint(seed: int, command: str) -> str:
    """Why only some seeds fail, and what the factory guarantees of drawn values."""
    return (
        f"seed 0 passes and seed {seed} does not, so a rule refuses values the factory "
        f"draws for some seeds (`{command}` shows one): the factory keeps only the "
        "relations between row.* dates that "
        "fixtures/catalog/README.md lists, so make the rule accept those or give the "
        "element another source"
    )


def _form_named(built: Built) -> str:
    """The older form version a dossier was built for ("form D05-TS version 626"), or ""
    (its error names the file at fault)."""
    return f"form {built.older[0]} version {built.older[1]}" if built.older else ""


def check_smoke(
    catalog: Catalog,
    pki: TestPKI | None = None,
    *,
    values: bool = True,
    defects: bool = False,
    seeds: int = CHECK_SEEDS,
) -> list[str]:
    """Raise :class:`CatalogError` listing every smoke refusal of ``catalog`` (its message
    does not name the catalog: the caller does); return the warnings, which do not fail it."""
    refusals = smoke_run(catalog, pki, values=values, defects=defects, seeds=seeds)
    errors = [r for r in refusals if r.kind not in WARNINGS]
    if errors:
        raise refused(errors)
    return grouped([r for r in refusals if r.kind in WARNINGS])


def check_smoke_once(catalog: Catalog, pki: TestPKI | None = None) -> str | None:
    """``serve``'s smoke run (valid dossiers only, no value check): raise
    :class:`CatalogError` on the gateway's own faults, return one warning line (None: none)
    on what may be the factory's data. Skipped when the same catalog data, reference files
    and harness code were run before (the factory's first dossiers cost about a second, a
    digest a few milliseconds); the warning is remembered with it."""
    mark = pass_mark(catalog)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if mark.is_file():
            return mark.read_text(encoding="utf-8") or None
    refusals = [r for r in smoke_run(catalog, pki, values=False) if r.kind not in WARNINGS]
    gateway = [r for r in refusals if r.gateway]
    if gateway:
        raise refused(gateway)
    warning = factory_warning(catalog, refusals) if refusals else ""
    remember_pass(catalog, mark, warning)
    return warning or None


__all__ = [
    "CHECK_SEEDS",
    "WARNINGS",
    "Built",
    "check_smoke",
    "check_smoke_once",
    "remember_pass",
    "smoke_builds",
    "smoke_run",
]
