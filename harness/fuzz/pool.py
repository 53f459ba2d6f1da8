"""Valid signed dossiers by specification, built once and reused.

Generating is dominated by signing (about 1.4 ms per signature, two or three per
dossier) and by seeding Faker, so a strategy that built every example from scratch could
not reach the hundreds of dossiers per second fuzzing needs. The factory is deterministic
per ``(catalog, procedure, seed, period, rows, optional forms, form versions)``, so that
tuple, a
:class:`DossierSpec`, is what strategies draw, and the pool keeps recently built dossiers
keyed by it: hypothesis revisits the same small specs constantly while shrinking and
while exploring near-simplest examples, and every revisit is free.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from harness.catalog import Catalog
from harness.dossiers.factory import NO_TWEAKS, Dossier, DossierFactory, Tweaks
from harness.identities import DEFAULT_IVAN_CODE
from harness.signing import TestPKI, ensure_pki


@dataclass(frozen=True)
class DossierSpec:
    """Everything that decides a valid dossier's content; the key of the pool."""

    catalog_version: str
    procedure: str
    seed: int
    period: str
    rows: int
    optional_forms: bool
    form_versions: tuple[tuple[str, str], ...] = ()
    """``(form, version)`` of each form built in an older version the catalog still accepts
    (senders keep filing those); a form not named is built in its current version."""

    def __str__(self) -> str:
        optional = "+optional" if self.optional_forms else ""
        older = "".join(f" {form}={version}" for form, version in self.form_versions)
        return (
            f"{self.catalog_version}/{self.procedure} seed={self.seed} {self.period} "
            f"rows={self.rows}{optional}{older}"
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`DossierFactory.build` besides procedure and seed."""
        return {
            "period": self.period,
            "rows": self.rows,
            "optional_forms": self.optional_forms,
            "form_versions": dict(self.form_versions),
        }

    def form_files(self, catalog: Catalog) -> tuple[str, ...]:
        """The forms its valid dossier carries, each in the version built (``D02-TS-505``):
        what a failure line names, and what a run counts its cases by."""
        procedure = catalog.procedure(self.procedure)
        if procedure is None:
            return ()
        codes = procedure.forms if self.optional_forms else procedure.required_forms
        older = dict(self.form_versions)
        return tuple(
            f"{code}-{older.get(code, catalog.forms[code].current.version)}"
            for code in codes
            if code in catalog.forms
        )


class DossierPool:
    """Builds dossiers for one catalog version, PKI and I-VAN; caches the valid ones (LRU).

    ``ivan`` is the code every envelope names (MaIVAN): the one whose token submits them,
    since a gateway refuses another I-VAN's dossiers (ENV-010).
    """

    def __init__(
        self, catalog: Catalog, pki: TestPKI, size: int = 2048, ivan: str = DEFAULT_IVAN_CODE
    ) -> None:
        self.catalog = catalog
        self.pki = pki
        self.factory = ivan_factory(DossierFactory(catalog, pki), ivan)
        self.size = size
        self._valid: OrderedDict[DossierSpec, Dossier] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def valid(self, spec: DossierSpec) -> Dossier:
        """The valid signed dossier of ``spec`` (built on first use, then reused)."""
        dossier = self._valid.get(spec)
        if dossier is not None:
            self.hits += 1
            self._valid.move_to_end(spec)
            return dossier
        self.misses += 1
        dossier = self.build(spec)
        self._valid[spec] = dossier
        if len(self._valid) > self.size:
            self._valid.popitem(last=False)
        return dossier

    def build(self, spec: DossierSpec, tweaks: Tweaks = NO_TWEAKS) -> Dossier:
        """A fresh dossier of ``spec`` through the factory's hooks (never cached), signed at
        :attr:`signing_time`: a clock in its bytes made the same seed send other bodies."""
        pinned = replace(tweaks, signed_form_hook=self._pinned_forms(tweaks.signed_form_hook))
        dossier = self.factory.build(spec.procedure, spec.seed, tweaks=pinned, **spec.options())
        return replace(dossier, envelope=pin_signing_time(dossier.envelope, self.signing_time))

    @cached_property
    def signed_at(self) -> datetime:
        """The moment every dossier and re-signed mutant is signed at: a day after the test
        PKI's unit certificate starts, inside every realistic certificate's life."""
        start = self.pki.credential(self.factory.signer).certificate.not_valid_before_utc
        return start + timedelta(days=1)

    @cached_property
    def signing_time(self) -> str:
        """The SigningTime every dossier carries (:attr:`signed_at`, as written)."""
        return _iso(self.signed_at)

    def _pinned_forms(
        self, hook: Callable[[str, bytes], bytes] | None
    ) -> Callable[[str, bytes], bytes]:
        """Each signed form's SigningTime pinned, before the tweak's own hook (which may
        set one on purpose)."""

        def pinned(code: str, content: bytes) -> bytes:
            content = pin_signing_time(content, self.signing_time)
            return content if hook is None else hook(code, content)

        return pinned


_SIGNING_TIME = re.compile(rb"(<(?:[\w.-]+:)?SigningTime>)[^<]*(</(?:[\w.-]+:)?SigningTime>)")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pin_signing_time(body: bytes, when: str) -> bytes:
    """``body`` with its own (not embedded) SigningTime elements saying ``when``: outside
    what the signature covers (the enveloped transform drops the whole Signature)."""
    return _SIGNING_TIME.sub(rb"\g<1>" + when.encode() + rb"\g<2>", body)


def ivan_factory(factory: DossierFactory, ivan: str) -> DossierFactory:
    """``factory`` naming ``ivan`` in its envelopes, checked like ``regress``/``dossier build``
    check ``--ivan``: a code the envelope schema refuses would fail every valid case."""
    from harness.conformance import factory_for_ivan

    return factory_for_ivan(factory, ivan, factory.pki.trust_store())


_POOLS: dict[tuple[int, Path, str], DossierPool] = {}


def pool_for(
    catalog: Catalog, pki: TestPKI | None = None, ivan: str = DEFAULT_IVAN_CODE
) -> DossierPool:
    """The process-wide pool of ``catalog`` signed with ``pki`` (default: ``ensure_pki()``)
    whose envelopes name ``ivan``."""
    pki = pki or ensure_pki()
    key = (id(catalog), pki.directory.resolve(), ivan)
    pool = _POOLS.get(key)
    if pool is None or pool.catalog is not catalog:
        pool = _POOLS[key] = DossierPool(catalog, pki, ivan=ivan)
    return pool


__all__ = ["DossierPool", "DossierSpec", "ivan_factory", "pin_signing_time", "pool_for"]
