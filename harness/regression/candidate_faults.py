"""Faults a replay shows outside the compared outcomes, made differences: a message whose
acknowledgement the candidate answered with an error, and a catalog endpoint answering
500. The corpus's replay and a newer catalog's (:mod:`~harness.regression.new_catalogs`)
report them alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.dossiers.corpus import CorpusEntry
from harness.regression.baseline import Baseline
from harness.regression.compare import Difference
from harness.regression.replay import Replay

Meta = Mapping[str, tuple[str, tuple[str, ...]]]
"""Dossier name -> (procedure, form versions): where a difference is reported."""


def meta_of(entries: Iterable[CorpusEntry]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The :data:`Meta` of ``entries``; a dossier of no procedure is reported as ``static``."""
    return {e.name: (e.procedure or "static", e.forms) for e in entries}


def unacknowledged(run: Replay, meta: Meta) -> list[Difference]:
    """A message whose acknowledgement the candidate answered with an error (the feed read
    on): an I-VAN cannot tell the gateway it has the message, a changed lifecycle."""
    out = []
    for name, kinds in sorted(run.unacknowledged.items()):
        procedure, forms = meta.get(name, ("static", ()))
        for kind, what in sorted(kinds.items()):
            about = f"{kind} acknowledgement"
            out.append(
                Difference("changed-message", procedure, name, forms, about, "acknowledged", what)
            )
    return out


def catalog_broken(base: Baseline, run: Replay) -> list[Difference]:
    """The candidate's catalog endpoint answering 500 where the baseline's listed its
    catalogs: the rest is judged, but an I-VAN can no longer learn what is served."""
    if not run.catalog_broken or not base.catalogs:
        return []
    served = " ".join(base.catalogs)
    return [
        Difference("catalog-removed", "all", "", (), "served catalogs", served, run.catalog_broken)
    ]


__all__ = ["Meta", "catalog_broken", "meta_of", "unacknowledged"]
