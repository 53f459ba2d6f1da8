"""The catalog versions a gateway serves, and a dossier checked the way such a gateway does.

A gateway serving several versions judges each dossier by the latest version in effect for
the period it declares (``KyKeKhai``), not by the newest one. The mock gateway and
``bhxh-harness dossier check`` both go through this module, so "accepted" means the same
to both: checking every file against the newest version alone disagreed with the gateway
on a quarter of a 2024.1 corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from harness.catalog import Catalog, list_versions, load_catalog, period_key, validators_for
from harness.catalog.loader import check_version_order
from harness.conformance import CheckResult, DossierChecker
from harness.error_codes import finding
from harness.errors import Finding
from harness.signing import TrustStore
from harness.xmlsafe import DEFAULT_LIMITS, XMLLimits

_PERIOD = re.compile(rb"<KyKeKhai>\s*(\d{2}/\d{4})\s*</KyKeKhai>")


class ServedCatalogs:
    """The catalog versions served (default: every version on disk), oldest first.

    A dossier is judged by the latest version in effect for its ``KyKeKhai``; periods
    before every version fall to the oldest, whose in-force dates then decide.
    """

    def __init__(self, versions: Iterable[str] = (), *, compile_now: bool = False) -> None:
        wanted = list(dict.fromkeys(versions)) or list_versions()
        loaded = [load_catalog(v) for v in wanted]
        check_version_order(loaded)  # two versions of one month: one would never be used
        self.catalogs = sorted(loaded, key=lambda c: period_key(c.effective_from))
        if compile_now:  # a server compiles every schema and rule at start, not per request
            for catalog in self.catalogs:
                validators_for(catalog)

    @property
    def latest(self) -> Catalog:
        return self.catalogs[-1]

    @property
    def versions(self) -> list[str]:
        return [c.version for c in self.catalogs]

    def for_period(self, period: str) -> Catalog:
        """The version governing ``period`` (``MM/yyyy``); the latest for an unreadable one."""
        try:
            return governing(self.catalogs, period)
        except ValueError:
            return self.latest


def governing(catalogs: Sequence[Catalog], period: str) -> Catalog:
    """Which of ``catalogs`` (oldest first) a gateway serving them judges a dossier of
    ``period`` by: the latest in effect then, the oldest for a period before them all.
    Raises ``ValueError`` for a period that is not ``MM/yyyy``."""
    key = period_key(period)
    chosen = catalogs[0]
    for catalog in catalogs:
        if period_key(catalog.effective_from) <= key:
            chosen = catalog
    return chosen


class ServedCheck:
    """:class:`DossierChecker` over every served version, choosing one per dossier."""

    def __init__(
        self, catalogs: ServedCatalogs, trust: TrustStore, limits: XMLLimits = DEFAULT_LIMITS
    ) -> None:
        self.catalogs = catalogs
        self._checkers = {c.version: DossierChecker(c, trust, limits) for c in catalogs.catalogs}

    def check(
        self, body: bytes, *, ivan: str | None = None, at: datetime | None = None
    ) -> tuple[Catalog, CheckResult]:
        """The governing version and its result.

        The version is picked from a cheap scan for ``KyKeKhai`` before parsing; if the
        parsed envelope declares a period governed by another version (a decoy in a
        comment, say), the dossier is checked again under the right one.
        """
        found = _PERIOD.search(body, 0, 1 << 20)
        scanned = found.group(1).decode() if found else ""
        catalog = self.catalogs.for_period(scanned)
        result = self._checkers[catalog.version].check(body, ivan=ivan, at=at)
        # the scan read the envelope's own period (every honest dossier): same choice
        if result.envelope is not None and result.envelope.ky_ke_khai != scanned:
            governing = self.catalogs.for_period(result.envelope.ky_ke_khai)
            if governing is not catalog:
                catalog = governing
                result = self._checkers[catalog.version].check(body, ivan=ivan, at=at)
        errors = self._not_yet_in_force(result.errors)
        if result.envelope is not None:
            errors = self._before_every_version(errors, result.envelope.ky_ke_khai)
        result.findings = errors + result.warnings
        return catalog, result

    def _before_every_version(self, errors: list[Finding], period: str) -> list[Finding]:
        """ENV-009 (form version not accepted) for a period no served version governs says
        so: the oldest version served judged it (``07/2024`` under 2026.1 alone), and the
        sender's older form version is refused because that period's version is not served."""
        if not errors:  # an accepted dossier: nothing to reword
            return errors
        oldest = self.catalogs.catalogs[0]
        try:
            before = period_key(period) < period_key(oldest.effective_from)
        except ValueError:
            return errors
        if not before:
            return errors
        return [
            replace(
                f,
                context={
                    **f.context,
                    "period": period,
                    "served_from": f"{oldest.effective_from} (catalog {oldest.version})",
                },
            )
            if f.code == "ENV-009"
            else f
            for f in errors
        ]

    def _not_yet_in_force(self, errors: list[Finding]) -> list[Finding]:
        """ENV-002 becomes ENV-003 when another served version knows the procedure.

        The period picks the catalog, so a procedure added later (630a from 01/2026) is
        unknown to the version governing 12/2025; the sender deserves "not in force for
        that period", which is what is wrong, rather than "no such procedure".
        """
        if [f.code for f in errors] != ["ENV-002"]:
            return errors
        code = errors[0].context.get("value", "")
        known = [c for c in self.catalogs.catalogs if c.procedure(code) is not None]
        if not known:
            return errors
        procedure = known[0].procedure(code)
        assert procedure is not None
        return [
            finding(
                "ENV-003",
                errors[0].xpath.replace("MaThuTuc", "KyKeKhai"),
                procedure=code,
                in_force_from=procedure.in_force_from,
            )
        ]


__all__ = ["ServedCatalogs", "ServedCheck", "governing"]
