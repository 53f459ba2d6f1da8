"""What a fuzz campaign found: cases by family, procedure and form version, and each
distinct failure. Its own module so report writers and the summary read a campaign's
record without loading the loop that fills it (nor hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.fuzz.evidence import Evidence
from harness.identities import DEFAULT_IVAN_CODE


@dataclass
class FamilyCount:
    """Cases of one family sent, and how many broke a property."""

    executed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class FuzzFailure:
    """One distinct failure: a property broken for one cause (the codes expected and
    those answered, see :func:`harness.fuzz.minimise.cause`), wherever it showed,
    minimised if it could be."""

    check: str
    family: str
    mutation: str
    reason: str
    answer: str
    expected: tuple[str, ...]
    codes: tuple[str, ...]
    occurrences: int
    minimised: bool
    evidence: Evidence | None
    procedure: str = ""  # the minimal case's
    forms: tuple[str, ...] = ()  # its valid dossier's form files, e.g. D02-TS-505
    detail: str = ""  # where the answer's first error points, and what it says
    seen: tuple[tuple[str, str], ...] = ()  # every (family, procedure) it showed in
    body: str = ""  # the start of the answer that broke the property, as sent

    @property
    def cell(self) -> str:
        """The report's case that holds its minimal dossier: ``FUZZ-<family>@<procedure>``."""
        return f"FUZZ-{self.family}@{self.procedure}"


@dataclass
class FuzzReport:
    """The outcome of :func:`run_fuzz`; ``ok`` when no property failed."""

    target: str
    catalog_version: str
    seed: int
    cases: int = 0
    elapsed: float = 0.0
    families: dict[str, FamilyCount] = field(default_factory=dict)
    by_procedure: dict[tuple[str, str], FamilyCount] = field(default_factory=dict)
    """(family, procedure) -> count: which procedures each family reached, and broke."""
    mutations: dict[str, int] = field(default_factory=dict)  # by Mutation.kind
    failures: list[FuzzFailure] = field(default_factory=list)
    ivan: str = DEFAULT_IVAN_CODE
    """The I-VAN every dossier named (MaIVAN)."""
    procedures: tuple[str, ...] = ()
    """The procedures the run was to reach: each got its turn (see :func:`run_fuzz`)."""
    form_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each form version the run was to reach (``TK1-TS-590``: every version the catalog
    accepts of a form the procedures take) -> those of the procedures that take it."""
    by_form_version: dict[str, int] = field(default_factory=dict)
    """Form version -> cases over a dossier carrying it (a case counts once per form)."""
    family_plan: tuple[str, ...] = ()
    """The families the run was to reach: each that applies to one of its procedures."""
    started_at: datetime = field(kw_only=True)
    """When the campaign began (UTC), before its first case: its report's start."""
    run_id: str = field(kw_only=True)
    """The report's run id (and folder name), stamped when the campaign began."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.elapsed if self.elapsed else 0.0

    @property
    def cases_by_procedure(self) -> dict[str, int]:
        """Cases each procedure got, every one the run was to reach included (0 or more)."""
        counts = dict.fromkeys(self.procedures, 0)
        for (_family, procedure), count in self.by_procedure.items():
            counts[procedure] = counts.get(procedure, 0) + count.executed
        return counts

    @property
    def unreached(self) -> tuple[str, ...]:
        """The procedures the run was to reach that got no case: it says nothing of them."""
        return tuple(p for p, n in self.cases_by_procedure.items() if not n)

    @property
    def cases_by_form_version(self) -> dict[str, int]:
        """Cases over each form version, every one the run was to reach included (0 or more)."""
        counts = dict.fromkeys(self.form_versions, 0)
        for form_version, count in self.by_form_version.items():
            counts[form_version] = counts.get(form_version, 0) + count
        return counts

    @property
    def unreached_form_versions(self) -> tuple[str, ...]:
        """The accepted form versions the run was to reach that got no case: it says nothing
        of senders still filing them."""
        return tuple(v for v, n in self.cases_by_form_version.items() if not n)

    @property
    def unrun_families(self) -> tuple[str, ...]:
        """The families the run was to reach that got no case: it says nothing of them."""
        return tuple(f for f in self.family_plan if f not in self.families)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON reports."""
        return {
            "target": self.target,
            "catalog_version": self.catalog_version,
            "seed": self.seed,
            "ivan": self.ivan,
            "cases": self.cases,
            "elapsed": round(self.elapsed, 3),
            "ok": self.ok,
            "families": {k: vars(v) for k, v in sorted(self.families.items())},
            "unrun_families": list(self.unrun_families),
            "cases_by_procedure": self.cases_by_procedure,
            "unreached_procedures": list(self.unreached),
            "cases_by_form_version": self.cases_by_form_version,
            "unreached_form_versions": list(self.unreached_form_versions),
            "mutations": dict(sorted(self.mutations.items())),
            "failures": [
                {
                    **{k: v for k, v in vars(f).items() if k != "evidence"},
                    "evidence": None if f.evidence is None else str(f.evidence.dossier),
                    "reproduce": None if f.evidence is None else f.evidence.command,
                }
                for f in self.failures
            ],
        }


__all__ = ["FamilyCount", "FuzzFailure", "FuzzReport"]
