"""Hypothesis strategies from the catalog: valid signed dossiers and one-fault mutants.

A valid dossier is drawn as a :class:`DossierSpec` (procedure, seed, period, rows,
optional forms, form versions) and built by :class:`~harness.dossiers.factory.DossierFactory`,
which derives every element from the form's XSD and ``fixtures/reference/fields.yaml``: the
draw is a handful of integers, so it is fast, it works for any procedure of any catalog
version, and it shrinks the way a person would (fewer rows, seed 0, the first period,
no optional forms, the first procedure, each form in its current version). Values inside
a form are not drawn with ``from_regex``; the factory's Faker provider makes realistic ones
far faster, and the mutation strategies reach the values a regex would (boundary and
invalid ones).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from harness.catalog import Catalog, Procedure
from harness.dossiers.factory import Dossier
from harness.dossiers.text import parse_period
from harness.errors import UsageError
from harness.fuzz._core import (
    DEFAULT_SETTINGS,
    Mutation,
    MutationContext,
    MutationSettings,
    Offer,
)
from harness.fuzz._quirks import draw_quirk
from harness.fuzz.mutations import check_families, context_for, offers
from harness.fuzz.pool import DossierPool, DossierSpec, pool_for
from harness.identities import DEFAULT_IVAN_CODE
from harness.signing import TestPKI


def _first_period(catalog: Catalog, code: str) -> str:
    """The factory's default period: the later of the catalog's and the procedure's start."""
    return catalog.first_period(catalog.procedures[code])


def _procedures(catalog: Catalog, procedure: str | Iterable[str] | None) -> list[str]:
    if procedure is None:
        return list(catalog.procedures)
    chosen = [procedure] if isinstance(procedure, str) else list(procedure)
    unknown = [p for p in chosen if p not in catalog.procedures]
    if unknown or not chosen:
        raise UsageError(
            f"procedure={procedure!r}: not in catalog {catalog.version}",
            hint=f"known procedures: {', '.join(catalog.procedures)}",
        )
    return chosen


def dossier_specs(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    max_rows: int = 3,
    seeds: int = 1 << 16,
    months: int = 12,
    optional: bool | None = None,
    pinned: Mapping[str, str] | None = None,
) -> st.SearchStrategy[DossierSpec]:
    """Specs of valid dossiers: any (or the given) procedure, seed, period, rows, options,
    and the version of each form the dossier carries.

    Periods run for ``months`` months from the factory's default period (the later of the
    catalog's and the procedure's first period), clipped to ``in_force.until``. Optional
    forms are drawn, or always carried (``optional=True``) or left out (``False``). Each
    form is drawn among the versions the catalog accepts, shrinking to the current one;
    ``pinned`` (form -> version) fixes some instead.
    """
    if max_rows < 1 or seeds < 1 or months < 1:
        raise UsageError(f"max_rows={max_rows}, seeds={seeds}, months={months}: must be >= 1")
    first: dict[str, str] = {}
    span: dict[str, int] = {}
    for code in _procedures(catalog, procedure):
        proc = catalog.procedures[code]
        first[code] = _first_period(catalog, code)
        span[code] = months
        if proc.in_force_until is not None:
            end, start = parse_period(proc.in_force_until), parse_period(first[code])
            span[code] = max(
                1, min(months, (end.year - start.year) * 12 + end.month - start.month + 1)
            )

    @st.composite
    def specs(draw: st.DrawFn) -> DossierSpec:
        code = draw(st.sampled_from(list(first)))
        seed = draw(st.integers(0, seeds - 1))
        offset = draw(st.integers(0, months - 1))
        rows = draw(st.integers(1, max_rows))
        carry = draw(st.booleans()) if optional is None else optional
        period = str(parse_period(first[code]).shifted(offset % span[code]))
        proc = catalog.procedures[code]
        older = _older_versions(draw, catalog, proc, carry, pinned or {})
        return DossierSpec(catalog.version, code, seed, period, rows, carry, older)

    return specs()


def _older_versions(
    draw: st.DrawFn, catalog: Catalog, procedure: Procedure, carry: bool, pinned: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """``(form, version)`` of each form of the dossier drawn (or ``pinned``) in an older
    version; a form with one version draws nothing, so such catalogs draw as they did."""
    codes = procedure.forms if carry else procedure.required_forms
    older = []
    for code in codes:
        versions = [v.version for v in reversed(catalog.forms[code].versions)]  # current first
        version = pinned.get(code) or (
            draw(st.sampled_from(versions)) if len(versions) > 1 else versions[0]
        )
        if version != versions[0]:
            older.append((code, version))
    return tuple(older)


def form_versions(catalog: Catalog, procedures: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every version the catalog accepts of a form one of ``procedures`` takes
    (``TK1-TS-590``), in catalog order, with those procedures: what a run is to reach."""
    codes = list(procedures)
    reach: dict[str, tuple[str, ...]] = {}
    for form in catalog.forms.values():
        takers = tuple(c for c in codes if form.code in catalog.procedures[c].forms)
        for version in form.versions if takers else ():
            reach[f"{form.code}-{version.version}"] = takers
    return reach


def valid_dossiers(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    pki: TestPKI | None = None,
    max_rows: int = 3,
    seeds: int = 1 << 16,
    months: int = 12,
    ivan: str = DEFAULT_IVAN_CODE,
) -> st.SearchStrategy[Dossier]:
    """Valid signed dossiers of ``catalog`` (any procedure, or the given ones) naming
    ``ivan`` (MaIVAN)."""
    pool = pool_for(catalog, pki, ivan)
    specs = dossier_specs(catalog, procedure, max_rows=max_rows, seeds=seeds, months=months)
    return specs.map(pool.valid)


@dataclass(frozen=True)
class FuzzCase:
    """One body to send: the spec it came from and the mutation applied (None: valid).

    Its ``repr`` is what hypothesis prints for a failing example, so it names the spec
    and the mutation and leaves the bytes out.
    """

    spec: DossierSpec
    mutation: Mutation | None
    body: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return "valid" if self.mutation is None else self.mutation.name

    @property
    def family(self) -> str:
        return "valid" if self.mutation is None else self.mutation.family

    @property
    def kind(self) -> str:
        return "valid" if self.mutation is None else self.mutation.kind

    @property
    def expected_codes(self) -> frozenset[str]:
        return frozenset() if self.mutation is None else self.mutation.expected_codes

    @property
    def expected_warnings(self) -> frozenset[str]:
        return frozenset() if self.mutation is None else self.mutation.expected_warnings

    @property
    def must_accept(self) -> bool:
        return self.mutation is None or self.mutation.must_accept

    @property
    def message_id(self) -> str:
        return f"fuzz-{hashlib.sha256(self.body).hexdigest()[:24]}"

    def __repr__(self) -> str:
        return f"FuzzCase({self.spec}, {self.name}, {len(self.body)} bytes)"

    def in_words(self) -> str:
        """What the case is, as a message to a person says it (not a Python repr)."""
        spec = self.spec
        older = "".join(f", {form} in version {v}" for form, v in spec.form_versions)
        dossier = (
            f"procedure {spec.procedure}'s dossier (catalog {spec.catalog_version}, seed "
            f"{spec.seed}, period {spec.period}, {spec.rows} row{'s' * (spec.rows != 1)}"
            f"{', optional forms' if spec.optional_forms else ''}{older})"
        )
        if self.mutation is None:
            return f"the valid {dossier}"
        return f"{dossier} with mutation {self.name}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """What hypothesis prints for a failing example (it would list every field)."""
        printer.text(repr(self))


VALID_SHARE = 4
"""About one case in this many is the valid dossier itself (hypothesis favours the draw of
0, so somewhat more), however many mutation families
apply: valid as one family among twenty left about two valid dossiers of a procedure per
hundred cases, and a release refusing one valid code (a PA code dropped from the XSD) went
unnoticed at CI budgets. Half of those are drawn in a quirk real software writes (a form's
names decomposed, NFD; each quirk of ``fixtures/baselines/quirks.yaml``, a GUID signature
Id...), which must be accepted alike: as one kind of one family, NFD reached about one case
in 150, and a release refusing it was found by one seed in six at 120 cases."""


def _cases(
    catalog: Catalog,
    procedure: str | Iterable[str] | None,
    families: Iterable[str] | None,
    pki: TestPKI | None,
    settings: MutationSettings,
    valid: bool,
    size: int | None = None,
    ivan: str = DEFAULT_IVAN_CODE,
) -> st.SearchStrategy[Any]:
    """One case, or a list of ``size`` cases over one drawn dossier naming ``ivan``.

    With ``valid``, one case in :data:`VALID_SHARE` is the valid dossier (as built, or in a
    quirk: see :mod:`harness.fuzz._quirks`); ``families=()`` with ``valid`` draws valid
    only. Named families draw only procedures they apply to (each must apply to one).
    """
    pool = pool_for(catalog, pki, ivan)
    codes, chosen = _plan(catalog, procedure, families, pool, settings, valid)
    specs = dossier_specs(catalog, codes, max_rows=3)
    return _drawn(pool, specs, chosen, settings, valid, size)


def _plan(
    catalog: Catalog,
    procedure: str | Iterable[str] | None,
    families: Iterable[str] | None,
    pool: DossierPool,
    settings: MutationSettings,
    valid: bool,
) -> tuple[list[str], tuple[str, ...]]:
    """The procedures to draw and the families to offer; named families keep only the
    procedures one of them applies to (and each must apply to one: else a usage error)."""
    wanted = None if families is None else tuple(families)
    chosen = () if wanted == () and valid else check_families(wanted)
    codes = _procedures(catalog, procedure)
    if chosen and (not valid or wanted is not None):  # every family: each procedure has one
        applying = check_applicable(catalog, codes, chosen, pool, settings)
        codes = [c for c in codes if any(c in where for where in applying.values())]
    return codes, chosen


def _drawn(
    pool: DossierPool,
    specs: st.SearchStrategy[DossierSpec],
    chosen: tuple[str, ...],
    settings: MutationSettings,
    valid: bool,
    size: int | None,
) -> st.SearchStrategy[Any]:
    """One case of a dossier of ``specs``, or a list of ``size`` cases over one of them."""

    def draw_case(draw: st.DrawFn, ctx: MutationContext, choices: list[Offer]) -> FuzzCase:
        # integers shrink to 0: a failure that needs no mutation shrinks to the valid dossier
        if valid and (not choices or draw(st.integers(0, VALID_SHARE - 1)) == 0):
            quirk = draw_quirk(draw, ctx)
            if quirk is None:
                return FuzzCase(ctx.spec, None, ctx.base.envelope)
            return FuzzCase(ctx.spec, quirk, quirk.apply(ctx))
        mutation = draw(st.sampled_from(choices))(draw)
        return FuzzCase(ctx.spec, mutation, mutation.apply(ctx))

    @st.composite
    def draw_cases(draw: st.DrawFn) -> FuzzCase | list[FuzzCase]:
        ctx = context_for(pool, draw(specs), settings)
        choices = [o for _, o in offers(ctx, chosen)]
        if not choices and not valid:
            reject()  # e.g. the family's form is optional and this dossier left it out
        if size is None:
            return draw_case(draw, ctx, choices)
        return [draw_case(draw, ctx, choices) for _ in range(size)]

    return draw_cases()


@dataclass(frozen=True)
class Stratum:
    """One procedure a fuzz run must reach, and how its batches are drawn: the runner
    gives each its turn, so the share of a procedure does not depend on the luck of a draw."""

    pool: DossierPool
    procedure: str
    families: tuple[str, ...]
    settings: MutationSettings
    valid: bool

    def batches(
        self, size: int, *, widest: bool = False, pinned: Mapping[str, str] | None = None
    ) -> st.SearchStrategy[list[FuzzCase]]:
        """``size`` cases over one drawn dossier of the procedure; ``widest``: a dossier
        carrying its optional forms too, so every form it takes is sent; ``pinned``: those
        forms in those versions (form -> version)."""
        catalog = self.pool.catalog
        optional = True if widest else None
        specs = dossier_specs(catalog, self.procedure, optional=optional, pinned=pinned)
        strategy: st.SearchStrategy[list[FuzzCase]] = _drawn(
            self.pool, specs, self.families, self.settings, self.valid, size
        )
        return strategy


def strata(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    families: Iterable[str] | None = None,
    pki: TestPKI | None = None,
    settings: MutationSettings = DEFAULT_SETTINGS,
    valid: bool = True,
    ivan: str = DEFAULT_IVAN_CODE,
) -> list[Stratum]:
    """The procedures a run of ``families`` over ``procedure`` (default: all) must reach,
    in catalog order: with named families, only those one of them applies to."""
    pool = pool_for(catalog, pki, ivan)
    codes, chosen = _plan(catalog, procedure, families, pool, settings, valid)
    return [Stratum(pool, code, chosen, settings, valid) for code in codes]


def applicable(
    catalog: Catalog,
    families: Iterable[str],
    pool: DossierPool,
    settings: MutationSettings = DEFAULT_SETTINGS,
    procedures: Iterable[str] | None = None,
) -> dict[str, list[str]]:
    """Family -> the procedures (of ``procedures``, default all) whose widest dossier it
    has something to break in."""
    codes = list(catalog.procedures if procedures is None else procedures)
    found: dict[str, list[str]] = {family: [] for family in families}
    for code in codes:
        ctx = context_for(pool, _widest(catalog, code), settings)
        for family, _offer in offers(ctx, tuple(found)):
            found[family].append(code)
    return found


def check_applicable(
    catalog: Catalog,
    procedures: Iterable[str],
    families: tuple[str, ...],
    pool: DossierPool,
    settings: MutationSettings = DEFAULT_SETTINGS,
) -> dict[str, list[str]]:
    """Family -> which of ``procedures`` it applies to; a family that applies to none of
    them is refused, naming those it applies to: a run would send it no case and pass."""
    codes = list(procedures)
    found = applicable(catalog, families, pool, settings, codes)
    for family, where in found.items():
        if where:
            continue
        anywhere = applicable(catalog, (family,), pool, settings)[family]
        if not anywhere:
            raise UsageError(
                f"--family {family}: nothing to mutate in any procedure of catalog "
                f"{catalog.version}",
                hint="choose another --family",
            )
        raise UsageError(
            f"--family {family} applies to none of procedure(s) {', '.join(codes)}",
            hint=f"{family} applies to procedure(s) {', '.join(anywhere)} of catalog "
            f"{catalog.version}: add one with --procedure, or leave --procedure out",
        )
    return found


def _widest(catalog: Catalog, code: str) -> DossierSpec:
    """A dossier of ``code`` with every optional form and several rows, to probe families."""
    return DossierSpec(catalog.version, code, 0, _first_period(catalog, code), 3, True)


def fuzz_batches(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    size: int = 4,
    families: Iterable[str] | None = None,
    pki: TestPKI | None = None,
    settings: MutationSettings = DEFAULT_SETTINGS,
    valid: bool = True,
    ivan: str = DEFAULT_IVAN_CODE,
) -> st.SearchStrategy[list[FuzzCase]]:
    """``size`` cases over one dossier: the fuzz runner's unit of work.

    Building and signing the valid dossier costs more than most mutations of it, so a
    runner that needs throughput breaks each dossier several ways; each case still
    breaks exactly one thing, and a failing one is minimised on its own.
    """
    if size < 1:
        raise UsageError(f"size={size}: a batch holds at least one case")
    strategy: st.SearchStrategy[list[FuzzCase]] = _cases(
        catalog, procedure, families, pki, settings, valid, size, ivan=ivan
    )
    return strategy


def mutated_dossiers(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    families: Iterable[str] | None = None,
    pki: TestPKI | None = None,
    settings: MutationSettings = DEFAULT_SETTINGS,
    ivan: str = DEFAULT_IVAN_CODE,
) -> st.SearchStrategy[FuzzCase]:
    """Valid dossiers with exactly one mutation applied; the case records which.

    The family is drawn uniformly among those that apply to the drawn dossier, then the
    family draws its target and values (see :mod:`harness.fuzz.mutations`).
    """
    strategy: st.SearchStrategy[FuzzCase] = _cases(
        catalog, procedure, families, pki, settings, False, ivan=ivan
    )
    return strategy


def fuzz_cases(
    catalog: Catalog,
    procedure: str | Iterable[str] | None = None,
    *,
    families: Iterable[str] | None = None,
    pki: TestPKI | None = None,
    settings: MutationSettings = DEFAULT_SETTINGS,
    valid: bool = True,
    ivan: str = DEFAULT_IVAN_CODE,
) -> st.SearchStrategy[FuzzCase]:
    """What a fuzz run sends: valid dossiers as one more "family", and one-fault mutants.

    Valid comes first, so a failure that does not need its mutation shrinks to the
    valid dossier that shows it.
    """
    strategy: st.SearchStrategy[FuzzCase] = _cases(
        catalog, procedure, families, pki, settings, valid, ivan=ivan
    )
    return strategy


__all__ = [
    "DossierSpec",
    "FuzzCase",
    "Stratum",
    "applicable",
    "check_applicable",
    "dossier_specs",
    "form_versions",
    "fuzz_batches",
    "fuzz_cases",
    "mutated_dossiers",
    "strata",
    "valid_dossiers",
]
