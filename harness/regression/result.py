"""What a ``regress`` run found (:class:`RegressionResult`, which the report, the terminal
and the exit code read), and what a run stopped by Ctrl-C or SIGTERM found so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.dossiers.corpus import CorpusEntry
from harness.regression.baseline import Baseline
from harness.regression.candidate_faults import meta_of, unacknowledged
from harness.regression.compare import Difference, LatencyThresholds, compare
from harness.regression.expectations import CatalogImpact, Expectation, apply_expectations
from harness.regression.new_catalogs import NewCatalogRun
from harness.regression.replay import Replay
from harness.regression.transport import TransportStats, combined


@dataclass
class RegressionResult:
    """Everything ``regress`` found; ``ok`` when no difference is unintended."""

    baseline: Baseline
    target: str
    corpus: list[CorpusEntry]
    run: Replay
    unintended: list[Difference]
    intended: list[tuple[Difference, str]]
    unused: list[Expectation]
    latency: dict[str, dict[str, float]]
    thresholds: LatencyThresholds
    impact: CatalogImpact | None
    notes: list[str] = field(default_factory=list)
    unjudged: dict[tuple[str, str], str] = field(default_factory=dict)
    """(latency kind, procedure) -> why it was not judged (too few samples)."""
    started_at: datetime = field(kw_only=True)
    """When the run began (UTC), before the baseline was read: its report's start."""
    run_id: str = field(kw_only=True)
    """The report's run id (and folder name), stamped when the run began."""
    new_catalogs: list[NewCatalogRun] = field(default_factory=list, kw_only=True)
    """The catalogs the candidate serves newer than the baseline's, their valid dossiers
    replayed (none for a candidate serving the baseline's catalogs)."""
    unexercised: list[str] = field(default_factory=list, kw_only=True)
    """Newly served catalog versions this harness does not have: not exercised."""
    causes: dict[str, str] = field(default_factory=dict, kw_only=True)
    """Dossier name -> what its differences may come from other than the release (a
    catalog version the candidate serves and the baseline's gateway did not)."""

    @property
    def ok(self) -> bool:
        return not self.unintended

    @property
    def differences(self) -> list[Difference]:
        return self.unintended + [d for d, _ in self.intended]

    @property
    def transport(self) -> TransportStats | None:
        """What the whole run's transport went through: the corpus's replay and each newer
        catalog's (each replay counts its own)."""
        return combined([self.run.transport, *(new.transport for new in self.new_catalogs)])

    def kinds(self) -> set[str]:
        """Kinds of the unintended differences (what the matrix test looks at)."""
        return {d.kind for d in self.unintended}


def interrupted(
    base: Baseline,
    corpus: Sequence[CorpusEntry],
    partial: Replay,
    declared: list[Expectation],
    messages_read: bool,
    started_at: datetime,
    run_id: str,
) -> RegressionResult:
    """What a stopped run found: the differences of the dossiers replayed so far (of their
    lifecycle messages, refused acknowledgements included, only when all were read);
    latency, served catalogs and what the expectations did not match are not judged, the
    dossiers not replayed not compared."""
    replayed = [e for e in corpus if e.name in partial.outcomes]
    meta = meta_of(replayed)
    keys = {"messages"} if not messages_read else set()
    before = {n: _without(o, keys) for n, o in base.outcomes.items() if n in partial.outcomes}
    after = {name: _without(o, keys) for name, o in partial.outcomes.items()}
    found = compare(before, after, meta) + (unacknowledged(partial, meta) if messages_read else [])
    intended, unintended, _unused = apply_expectations(found, declared)
    stop = f"the run was stopped after {len(replayed)} of {len(corpus)} dossiers"
    if len(replayed) == len(corpus):
        stop = f"the run was stopped after its {len(corpus)} dossiers were replayed"
    kinds = ["latency-p50", "latency-p95", "catalog-removed"]
    kinds += [] if messages_read else ["missing-message", "extra-message", "changed-message"]
    procedures = {e.procedure or "static" for e in replayed}
    unread = "" if messages_read else "lifecycle messages, "
    note = f"{stop}: {unread}latency and served catalogs not judged"
    return RegressionResult(
        base, partial.target, replayed, partial, unintended, intended, [], {},
        LatencyThresholds(), None, [note],
        {(kind, procedure): f"not judged: {stop}" for kind in kinds for procedure in procedures},
        started_at=started_at, run_id=run_id,
    )  # fmt: skip


def _without(outcome: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in outcome.items() if k not in keys}


__all__ = ["RegressionResult", "interrupted"]
