"""What ``record`` checks around its replay: which catalog version to record (one the
gateway serves), a replay whose lifecycle was still awaited (no baseline stored), and the
answers a known-good gateway would not give (said, since a baseline keeps whatever came)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harness.catalog import in_effect_order, latest_version, list_versions, load_catalog
from harness.dossiers.corpus import CorpusEntry
from harness.errors import GatewayUnavailable, UsageError
from harness.message_kinds import RESULT
from harness.regression.preflight import base_url, served_versions
from harness.regression.replay import GatewayTarget, Replay
from harness.served_catalogs import ServedCatalogs
from harness.served_versions import check_serves, dossier_periods


def served_by(gateway: str, options: dict[str, Any]) -> list[str] | None:
    """The catalog versions ``gateway`` serves, oldest first: the in-process gateway's
    (``catalogs``, default every version on disk), or a URL's ``/healthz`` list (None when
    it does not say, or when :func:`~harness.regression.target.open_target` is to refuse
    the options anyway)."""
    if gateway == "inproc":
        return ServedCatalogs(tuple(options.get("catalogs") or ())).versions
    if not options.get("token") or options.get("release") or options.get("catalogs"):
        return None
    verify = options.get("verify_tls", True)
    url = base_url(gateway)
    return served_versions(GatewayTarget(url, str(options["token"]), verify_tls=verify))


def record_catalog(
    catalog: str | None, served: list[str] | None, procedures: Sequence[str] = ()
) -> str:
    """The corpus's catalog: ``catalog``, which the gateway must serve for the corpus's
    periods (:func:`harness.served_versions.check_serves`), or by default the newest (by
    ``effective_from``) it serves that this harness has. A corpus of a version the gateway
    does not serve is answered by another version's rules, not recorded."""
    on_disk = list_versions()
    if served is None:
        return catalog or latest_version()
    if catalog is not None:
        if catalog in on_disk:  # else loading it says the version is not found
            chosen = load_catalog(catalog)
            check_serves(
                chosen,
                served,
                dossier_periods(chosen, procedures or None),
                hint="pass --catalog with one of those, or leave it out to record the newest "
                "one it serves that this harness has",
            )
        return catalog
    have = in_effect_order(served)
    if not have:
        raise UsageError(
            f"the gateway serves catalog {' '.join(served) or '(none)'}, none of which this "
            f"harness has (it has {' '.join(on_disk)})",
            hint="add the version's folder under fixtures/catalog (or set BHXH_HARNESS_HOME "
            "to a copy that has it), or record against a gateway serving one of those",
        )
    return have[-1]


def refuse_unfinished(run: Replay, name: str) -> None:
    """Store no baseline whose lifecycle messages were still awaited when polling timed out:
    it would read as a gateway that sends none, and every later regress would fail on it."""
    if not run.waiting:
        return
    accepted = sum(1 for outcome in run.outcomes.values() if outcome.get("accepted"))
    raise GatewayUnavailable(
        f"could not conclude: {run.waiting} of {accepted} accepted dossier(s) were still "
        f"waiting for their {RESULT} when feed polling timed out, so baseline {name} was "
        "not written (without those messages it would not be what this gateway does)\n"
        "Hint: pass --admin-token so the harness fast-forwards the gateway's clock, or give "
        "a longer --poll-timeout (or serve the gateway with a faster --clock-speed)"
    )


def surprises(corpus: Sequence[CorpusEntry], outcomes: dict[str, dict[str, Any]]) -> list[str]:
    """Each dossier whose answer is not the one its corpus entry expects, as one line (an
    accepted one whose 03/TB-TS never came too: its baseline lacks the lifecycle)."""
    found = []
    for entry in corpus:
        outcome = outcomes.get(entry.name)
        if outcome is None:
            continue
        codes = list(outcome.get("codes") or [])
        got = "accepted" if outcome.get("accepted") else " ".join(codes) or "rejected"
        if outcome.get("unavailable"):
            got = f"unavailable ({outcome['unavailable']})"
        if not entry.expected and not outcome.get("accepted"):
            found.append(f"{entry.name}: expected accepted, got {got}")
        elif entry.expected and (outcome.get("accepted") or not set(entry.expected) <= set(codes)):
            found.append(f"{entry.name}: expected {' '.join(entry.expected)}, got {got}")
        elif outcome.get("accepted") and not has_result(outcome):
            found.append(f"{entry.name}: accepted, but its {RESULT} never came")
        elif outcome.get("accepted") and set(entry.result) != (listed := result_defects(outcome)):
            said = " ".join(sorted(listed)) or "no defective row"
            want = " ".join(entry.result) or "no defective row"
            found.append(f"{entry.name}: expected its {RESULT} to list {want}, it lists {said}")
    return found


def unacknowledged_notes(run: Replay) -> list[str]:
    """One line per message whose acknowledgement the gateway refused: a known-good
    gateway takes every acknowledgement, and a baseline does not keep them."""
    return [
        f"{name}: acknowledging its {kind} failed: {what}"
        for name, kinds in sorted(run.unacknowledged.items())
        for kind, what in sorted(kinds.items())
    ]


def has_result(outcome: dict[str, Any]) -> bool:
    """Whether the dossier's messages include its 03/TB-TS result."""
    return any(m.get("kind") == RESULT for m in outcome.get("messages") or ())


_ROW_CODE = re.compile(r"(?:^|/)DS_LOI/LOI(?:\[\d+\])?/MA_LOI$")


def result_defects(outcome: dict[str, Any]) -> set[str]:
    """The codes of the defective rows (``DS_LOI``) the dossier's 03/TB-TS results list."""
    return {
        str(value)
        for m in outcome.get("messages") or ()
        if m.get("kind") == RESULT
        for key, value in (m.get("fields") or {}).items()
        if _ROW_CODE.search(key) and value
    }


__all__ = [
    "has_result",
    "record_catalog",
    "refuse_unfinished",
    "result_defects",
    "served_by",
    "surprises",
    "unacknowledged_notes",
]
