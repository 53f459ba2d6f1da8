"""The catalog's data model: procedures, forms and form versions, as loaded from YAML.

Plain frozen dataclasses so every suite can read them without touching YAML or lxml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def period_key(period: str) -> int:
    """``MM/yyyy`` as ``yyyymm`` so periods compare as integers."""
    month, year = period.split("/")
    return int(year) * 100 + int(month)


@dataclass(frozen=True)
class FormVersion:
    """One version of a form (a form set such as 595), with its schema and rule files.

    ``rules`` decide the intake (a failed error refuses the dossier); ``result_rules`` (the
    form's in ``catalog.yaml``, for each of its versions) are BHXH's processing of an
    accepted one: their failed asserts are the defective rows its 03/TB-TS lists (checks
    against BHXH's own records, which an intake cannot make).
    """

    form: str
    version: str
    xsd: Path
    rules: tuple[Path, ...]
    result_rules: tuple[Path, ...] = ()

    @property
    def file_name(self) -> str:
        """The file name the envelope carries, e.g. ``D02-TS-595.xml``."""
        return f"{self.form}-{self.version}.xml"


@dataclass(frozen=True)
class Form:
    """A form (tờ khai) and the versions of it this catalog accepts; the last one is current."""

    code: str
    name: str
    signature_node: str
    versions: tuple[FormVersion, ...]

    @property
    def current(self) -> FormVersion:
        return self.versions[-1]

    def version(self, version: str) -> FormVersion | None:
        return next((v for v in self.versions if v.version == version), None)


DEFAULT_DAYS_TO_RESULT = 10
"""A procedure's processing time unless its catalog entry says otherwise: the shortest of
the law's deadlines (SI Law 2014 art. 99: information adjustment 10 days)."""


@dataclass(frozen=True)
class Procedure:
    """A procedure (thủ tục): which forms it needs and the periods it is in force for."""

    code: str
    name: str
    required_forms: tuple[str, ...]
    optional_forms: tuple[str, ...]
    in_force_from: str
    in_force_until: str | None = None
    days_to_result: int = DEFAULT_DAYS_TO_RESULT
    """Days BHXH takes to process it: the 02/TB-TS's promised return date (NGAY_TRA)."""

    @property
    def forms(self) -> tuple[str, ...]:
        return self.required_forms + self.optional_forms

    def in_force(self, period: str) -> bool:
        """True when a dossier declared for ``period`` (``MM/yyyy``) may use this procedure."""
        key = period_key(period)
        if key < period_key(self.in_force_from):
            return False
        return self.in_force_until is None or key <= period_key(self.in_force_until)


@dataclass(frozen=True)
class Envelope:
    """The ``Hoso`` envelope's schema, rules and where the unit's signature goes.

    ``agrees_with_forms`` pairs an envelope path with a form path (both below the roots,
    local names): every form holding the second must say what the envelope says in the
    first (names compared after NFC), or the dossier wraps another unit's or period's form.
    """

    xsd: Path
    rules: tuple[Path, ...]
    signature_node: str
    agrees_with_forms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class Catalog:
    """One catalog version: everything the gateway and the suites know about procedures.

    Compared and hashed by identity: loaded once per process and used as a cache key.
    """

    version: str
    title: str
    effective_from: str
    root: Path
    envelope: Envelope
    forms: dict[str, Form] = field(default_factory=dict)
    procedures: dict[str, Procedure] = field(default_factory=dict)

    def procedure(self, code: str) -> Procedure | None:
        return self.procedures.get(code)

    def first_period(self, procedure: Procedure) -> str:
        """The first period (``MM/yyyy``) a dossier of ``procedure`` may declare under this
        version: the later of the version's start and the procedure's (what the dossier
        factory builds by default, and so what the suites send)."""
        return max(self.effective_from, procedure.in_force_from, key=period_key)

    def form(self, code: str) -> Form | None:
        return self.forms.get(code)

    def form_version(self, file_name: str) -> FormVersion | None:
        """The form version an envelope file name such as ``D02-TS-595.xml`` refers to."""
        stem = file_name.rsplit(".", 1)[0]
        code, _, version = stem.rpartition("-")
        form = self.forms.get(code)
        return None if form is None else form.version(version)
