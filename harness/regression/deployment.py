"""How the baseline's gateway and the candidate differ in deployment, not in release.

A baseline taken in-process and a candidate reached over HTTP, or a candidate serving
catalog versions the baseline's gateway did not, give differences no release caused: an
HTTP round trip is slower than a function call, and an extra catalog version governs the
dossiers dated in its period. Such a run says so, names the differences that may come
from it, and says how to compare like with like, instead of failing with no cause named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.catalog import in_effect_order, list_versions
from harness.dossiers.corpus import CorpusEntry
from harness.regression.compare import NEW_CATALOG_KINDS, Difference
from harness.served_catalogs import ServedCatalogs

IN_PROCESS = "inproc"
LATENCY_KINDS = ("latency-p50", "latency-p95")
_PERIOD = re.compile(rb"<KyKeKhai>\s*(\d{2}/\d{4})\s*</KyKeKhai>")
_SHOWN = 5
"""Dossiers and differences named in a note; the report's cells list every difference."""


def reached(gateway: str) -> str:
    """``in-process`` for ``inproc`` (``inproc[release]`` as a baseline stores it), else
    ``over HTTP``; empty for a baseline that did not store its gateway."""
    if not gateway:
        return ""
    return "in-process" if gateway.split("[", 1)[0] == IN_PROCESS else "over HTTP"


def latency_unjudged_note(baseline_gateway: str, candidate_gateway: str) -> str | None:
    """Why latency is not judged when baseline and candidate were reached differently (an
    in-process baseline timed against an HTTP candidate is slower by the transport alone);
    None when both were reached the same way, or the baseline does not say how."""
    before, after = reached(baseline_gateway), reached(candidate_gateway)
    if not before or before == after:
        return None
    how = (
        "record the baseline against a URL gateway (serve the known-good build, e.g. "
        "`bhxh-harness serve`, then `bhxh-harness record --gateway URL --token ...`)"
        if after == "over HTTP"
        else "record the baseline with --gateway inproc, or regress against the candidate's URL"
    )
    return (
        f"latency not judged: the baseline was timed {before} ({baseline_gateway}), the "
        f"candidate {after} ({candidate_gateway}), so their times differ by the transport "
        f"alone; to have latency judged, {how}"
    )


def latency_unjudged(procedures: Sequence[str], note: str) -> dict[tuple[str, str], str]:
    """Each latency cell of ``procedures`` as not judged, pointing at the run's note."""
    why = (
        "not judged: baseline and candidate reached differently (in-process vs HTTP); "
        + (note.split("; to have latency judged, ", 1)[-1])
    )
    return {(kind, p): why for kind in LATENCY_KINDS for p in procedures}


def _period(entry: CorpusEntry) -> str:
    """The dossier's declared period (``MM/yyyy``), as the gateway reads it; "" if none."""
    found = _PERIOD.search(entry.body, 0, 1 << 20)
    return found.group(1).decode() if found else ""


def governed_elsewhere(
    corpus: Sequence[CorpusEntry], baseline: Sequence[str], candidate: Sequence[str]
) -> dict[str, str]:
    """Dossier name -> the version governing its period at the candidate, for each dossier
    that version governs there but did not at the baseline's gateway (both judge a dossier
    by the latest version in effect for its period). Versions this harness lacks are left
    out: their dates are unknown here."""
    on_disk = set(list_versions())
    before = [v for v in baseline if v in on_disk]
    after = [v for v in candidate if v in on_disk]
    if not before or not after or set(before) == set(after):
        return {}
    old, new = ServedCatalogs(before), ServedCatalogs(after)
    moved = {}
    for entry in corpus:
        period = _period(entry)
        now = new.for_period(period).version
        if now != old.for_period(period).version:
            moved[entry.name] = now
    return moved


def _listed(names: Sequence[str]) -> str:
    more = len(names) - _SHOWN
    return ", ".join(names[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _newest(versions: Sequence[str]) -> str | None:
    """The newest of ``versions`` this harness has (by ``effective_from``)."""
    known = in_effect_order(versions)
    return known[-1] if known else None


def _newer(version: str, baseline_newest: str | None) -> bool:
    """Whether ``version`` (one this harness has) is newer than the baseline's newest."""
    on_disk = list_versions()
    if version not in on_disk or baseline_newest is None:
        return False
    return on_disk.index(version) > on_disk.index(baseline_newest)


def _age(version: str, baseline_newest: str | None) -> str:
    """How a version the baseline's gateway did not serve stands to the baseline's newest."""
    if version not in set(list_versions()) or baseline_newest is None:
        return "not in this harness's fixtures"
    if _newer(version, baseline_newest):
        return f"newer, its own dossiers replayed as REG-new-catalog@{version}"
    return "older than the baseline's newest: a deployment difference, not itself a failure"


def extra_catalogs_note(
    baseline_gateway: str,
    baseline: Sequence[str],
    candidate: Sequence[str],
    moved: dict[str, str],
    differences: Sequence[Difference],
) -> list[str]:
    """A note naming the versions the candidate serves and the baseline's gateway did not,
    and the corpus differences that may come from them (their dossiers' periods are now
    governed by one of them). Nothing when it serves no other version, either list is
    unknown, or every other one is newer (its REG-new-catalog case tells) and no
    difference may come from it."""
    extra = [v for v in candidate if v not in baseline]
    if not baseline or not candidate or not extra:
        return []
    newest = _newest(baseline)
    caused = [d for d in differences if d.dossier in moved and d.kind not in NEW_CATALOG_KINDS]
    if not caused and all(_newer(v, newest) for v in extra):
        return []
    ages = "; ".join(f"{v}: {_age(v, newest)}" for v in extra)
    told = (
        f"the candidate serves catalog {' '.join(extra)}, which the baseline's gateway "
        f"({baseline_gateway or '?'}, serving {' '.join(baseline)}) did not ({ages})"
    )
    if not moved:
        return [f"{told}; it governs no dossier of the corpus, so no difference comes from it"]
    told += (
        f"; it governs the period of {len(moved)} corpus dossier(s) there "
        f"({_listed(sorted(moved))}: judged by {' '.join(sorted(set(moved.values())))}, "
        "not by the version that judged them at the baseline's gateway)"
    )
    if not caused:
        return [f"{told}, none of which differs"]
    return [
        f"{told}, so {len(caused)} difference(s) may come from it rather than from the "
        f"release: {_listed([f'{d.kind} {d.dossier}' for d in caused])}; to compare like "
        f"with like, record the baseline against a gateway serving {' '.join(candidate)} "
        f"(--gateway inproc: --serve-catalog each), or serve the candidate with "
        f"{' '.join(baseline)} only"
    ]


def causes(moved: dict[str, str]) -> dict[str, str]:
    """Dossier name -> what its differences may come from, for the report's evidence."""
    return {
        name: f"catalog {version}, which the candidate serves and the baseline's gateway did "
        "not, governs this dossier's period: the difference may come from that, not the release"
        for name, version in moved.items()
    }


__all__ = [
    "LATENCY_KINDS",
    "causes",
    "extra_catalogs_note",
    "governed_elsewhere",
    "latency_unjudged",
    "latency_unjudged_note",
    "reached",
]
